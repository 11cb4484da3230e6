/**
 * Input patterns a question may require: a preset list staff pick from, or a custom regular
 * expression that is checked before it is saved, so no pattern can make the server spin on a
 * crafted answer (ReDoS). Custom patterns also cap the answer's length.
 */

export interface PatternPreset {
  key: string;
  label: string;
  /** Message when the answer does not match. */
  message: string;
  regex: RegExp;
  /** NFKC before checking and storing (makes half-width katakana full-width). */
  nfkc?: boolean;
}

export const PATTERN_PRESETS: PatternPreset[] = [
  { key: 'katakana', label: '全角カタカナ', message: '全角カタカナで入力してください。', regex: /^[\u30a0-\u30ff\u3000 ]+$/u, nfkc: true },
  { key: 'hiragana', label: 'ひらがな', message: 'ひらがなで入力してください。', regex: /^[\u3041-\u309f\u30fc\u3000 ]+$/u, nfkc: true },
  { key: 'alnum', label: '半角英数字', message: '半角英数字で入力してください。', regex: /^[A-Za-z0-9]+$/u, nfkc: true },
  { key: 'digits', label: '数字のみ', message: '数字だけで入力してください。', regex: /^[0-9]+$/u, nfkc: true },
];

export function presetByKey(key: string): PatternPreset | undefined {
  return PATTERN_PRESETS.find((p) => p.key === key);
}

/** Longest custom pattern accepted. */
export const MAX_CUSTOM_PATTERN = 200;
/** Answers checked against a custom pattern are at most this long. */
export const MAX_CUSTOM_INPUT = 200;
/** Bounded repetition up to this count is harmless even around alternatives ((a|b){1,10}). */
const SAFE_REPEAT = 10;

export class UnsafePatternError extends Error {}

interface Group {
  inner: boolean;
}

/**
 * Checks a custom pattern: valid JavaScript syntax (u flag), at most 200 characters, no
 * backreferences or lookaround, and no group that repeats without bound while holding a
 * quantifier or an alternative — the shapes ((a+)+, (a|a)*) that backtrack exponentially.
 * Returns the compiled whole-answer matcher, or throws UnsafePatternError with a Japanese message.
 * @example compileCustomPattern('[0-9]{4}-[0-9]{2}') // /^(?:[0-9]{4}-[0-9]{2})$/u
 */
export function compileCustomPattern(pattern: string): RegExp {
  if (!pattern) throw new UnsafePatternError('パターンを入力してください。');
  if (pattern.length > MAX_CUSTOM_PATTERN) throw new UnsafePatternError(`パターンは${MAX_CUSTOM_PATTERN}文字以内にしてください。`);
  let compiled: RegExp;
  try {
    compiled = new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    throw new UnsafePatternError('正規表現の書き方が正しくありません。');
  }
  const stack: Group[] = [{ inner: false }];
  let i = 0;
  // After a closing parenthesis: whether that group held a quantifier or an alternative.
  let lastGroupRisky = false;
  let lastWasGroup = false;
  const top = () => stack[stack.length - 1]!;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[1-9]/.test(next) || next === 'k') throw new UnsafePatternError('後方参照（\\1 など）は使えません。');
      i += next === 'u' && pattern[i + 2] === '{' ? pattern.indexOf('}', i) + 1 - i : 2;
      lastWasGroup = false;
      continue;
    }
    if (ch === '[') {
      i++;
      if (pattern[i] === '^') i++;
      if (pattern[i] === ']') i++;
      while (i < pattern.length && pattern[i] !== ']') i += pattern[i] === '\\' ? 2 : 1;
      i++;
      lastWasGroup = false;
      continue;
    }
    if (ch === '(') {
      if (pattern.startsWith('(?=', i) || pattern.startsWith('(?!', i) || pattern.startsWith('(?<=', i) || pattern.startsWith('(?<!', i)) {
        throw new UnsafePatternError('先読み・後読み（(?= など）は使えません。');
      }
      stack.push({ inner: false });
      i += pattern.startsWith('(?:', i) ? 3 : pattern.startsWith('(?<', i) ? pattern.indexOf('>', i) + 1 - i : 1;
      lastWasGroup = false;
      continue;
    }
    if (ch === ')') {
      const g = stack.pop()!;
      lastGroupRisky = g.inner;
      // What a group holds counts for the groups around it.
      if (g.inner) top().inner = true;
      lastWasGroup = true;
      i++;
      continue;
    }
    if (ch === '|') {
      top().inner = true;
      lastWasGroup = false;
      i++;
      continue;
    }
    const q = readQuantifier(pattern, i);
    if (q) {
      if (lastWasGroup && lastGroupRisky && q.max > SAFE_REPEAT) {
        throw new UnsafePatternError('繰り返しの中に繰り返しや「|」を入れた形（(a+)+ など）は、処理が止まらなくなるおそれがあるため使えません。');
      }
      top().inner = true;
      i += q.length;
      lastWasGroup = false;
      continue;
    }
    lastWasGroup = false;
    i++;
  }
  return compiled;
}

function readQuantifier(p: string, i: number): { max: number; length: number } | null {
  const ch = p[i];
  let max: number;
  let length: number;
  if (ch === '*' || ch === '+') {
    max = Infinity;
    length = 1;
  } else if (ch === '?') {
    max = 1;
    length = 1;
  } else if (ch === '{') {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
    if (!m) return null;
    max = m[2] === undefined ? Number(m[1]) : m[3] === '' ? Infinity : Number(m[3]);
    length = m[0].length;
  } else return null;
  if (p[i + length] === '?') length++;
  return { max, length };
}

/** True when the custom pattern is acceptable (no throw). */
export function isSafePattern(pattern: string): boolean {
  try {
    compileCustomPattern(pattern);
    return true;
  } catch {
    return false;
  }
}
