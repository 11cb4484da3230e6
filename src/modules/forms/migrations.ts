import type { PlatformMigration } from '../../core/db/migrate.js';
import './schema.js';

/** Forms, questions, responses with answers and files, CMS embeds, reception numbers, postal codes. */
export const formsMigrations: PlatformMigration[] = [
  {
    name: '20261124_10_forms_core',
    async up(db, k) {
      const blob = k.engine === 'postgres' ? 'bytea' : 'blob';
      await k
        .id(db.schema.createTable('forms'))
        .addColumn('organization_id', 'integer', (c) => c.references('organizations.id'))
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('form'))
        .addColumn('audience', 'text', (c) => c.notNull().defaultTo('public'))
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('state', 'text', (c) => c.notNull().defaultTo('draft'))
        .$call((t) => k.timestamp(t, 'opens_at'))
        .$call((t) => k.timestamp(t, 'closes_at'))
        .$call((t) => k.timestamp(t, 'removes_at'))
        .addColumn('response_limit', 'integer')
        .addColumn('response_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('completion_message', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('min_fill_seconds', 'integer', (c) => c.notNull().defaultTo(3))
        .$call((t) => k.bool(t, 'reply_enabled'))
        .addColumn('reply_subject', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('reply_body', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('reply_question_id', 'integer')
        .addColumn('notify_emails', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('created_by', 'integer', (c) => c.references('users.id'))
        .addColumn('updated_by', 'integer', (c) => c.references('users.id'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('forms_state_idx').on('forms').columns(['state']).execute();

      await k
        .id(db.schema.createTable('form_questions'))
        .addColumn('form_id', 'integer', (c) => c.notNull().references('forms.id').onDelete('cascade'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('help', 'text', (c) => c.notNull().defaultTo(''))
        .$call((t) => k.bool(t, 'required'))
        .$call((t) => k.json(t, 'options', (c) => c.notNull()))
        .$call((t) => k.json(t, 'rules', (c) => c.notNull()))
        .$call((t) => k.json(t, 'show_if'))
        .$call((t) => k.timestamp(t, 'deleted_at'))
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('form_questions_form_idx').on('form_questions').columns(['form_id', 'position']).execute();

      await k
        .id(db.schema.createTable('form_responses'))
        .addColumn('form_id', 'integer', (c) => c.notNull().references('forms.id').onDelete('cascade'))
        .addColumn('receipt_number', 'text', (c) => c.notNull().unique())
        .addColumn('submission_key', 'text', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) => c.notNull().defaultTo('new'))
        .addColumn('memo', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('respondent_email', 'text')
        .addColumn('respondent_user_id', 'integer')
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('reply_mail_id', 'integer')
        .$call((t) => k.json(t, 'notify_mail_ids', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'submitted_at', (c) => c.notNull()))
        .$call((t) => k.timestamp(t, 'updated_at', (c) => c.notNull()))
        .addColumn('updated_by', 'integer', (c) => c.references('users.id'))
        .execute();
      await db.schema.createIndex('form_responses_form_idx').on('form_responses').columns(['form_id', 'submitted_at']).execute();

      await k
        .id(db.schema.createTable('form_answers'))
        .addColumn('response_id', 'integer', (c) => c.notNull().references('form_responses.id').onDelete('cascade'))
        .addColumn('question_id', 'integer', (c) => c.notNull())
        .addColumn('question_label', 'text', (c) => c.notNull())
        .addColumn('value', 'text', (c) => c.notNull())
        .$call((t) => k.json(t, 'detail', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('form_answers_response_idx').on('form_answers').columns(['response_id']).execute();

      await k
        .id(db.schema.createTable('form_files'))
        .addColumn('form_id', 'integer', (c) => c.notNull().references('forms.id').onDelete('cascade'))
        .addColumn('question_id', 'integer', (c) => c.notNull())
        .addColumn('response_id', 'integer', (c) => c.references('form_responses.id').onDelete('cascade'))
        .addColumn('upload_token', 'text', (c) => c.unique())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('mime', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('data', blob, (c) => c.notNull())
        .$call((t) => k.timestamp(t, 'created_at', (c) => c.notNull()))
        .execute();
      await db.schema.createIndex('form_files_response_idx').on('form_files').columns(['response_id']).execute();

      await db.schema
        .createTable('form_embeds')
        .addColumn('node_id', 'integer', (c) => c.primaryKey())
        .addColumn('site_id', 'integer', (c) => c.notNull())
        .addColumn('form_id', 'integer', (c) => c.notNull().references('forms.id').onDelete('cascade'))
        .addColumn('path', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('form_embeds_form_idx').on('form_embeds').columns(['form_id']).execute();

      await db.schema
        .createTable('form_receipt_counters')
        .addColumn('year', 'integer', (c) => c.primaryKey())
        .addColumn('last', 'integer', (c) => c.notNull())
        .execute();

      await k
        .id(db.schema.createTable('postal_codes'))
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('prefecture', 'text', (c) => c.notNull())
        .addColumn('city', 'text', (c) => c.notNull())
        .addColumn('town', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('postal_codes_code_idx').on('postal_codes').columns(['code']).execute();
    },
    async down(db) {
      for (const t of ['postal_codes', 'form_receipt_counters', 'form_embeds', 'form_files', 'form_answers', 'form_responses', 'form_questions', 'forms']) {
        await db.schema.dropTable(t).execute();
      }
    },
  },
];
