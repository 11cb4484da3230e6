/** Bad input from a person: carries Japanese messages per field; handlers show them, status 422. */
export class InputError extends Error {
  constructor(public readonly fields: Record<string, string>) {
    super(Object.values(fields).join(' '));
  }
}

/** The actor may not do this (403). */
export class ForbiddenError extends Error {
  constructor(message = 'forbidden') {
    super(message);
  }
}

/** The thing asked for does not exist or is outside the actor's reach (404). */
export class NotFoundError extends Error {
  constructor(message = 'not found') {
    super(message);
  }
}
