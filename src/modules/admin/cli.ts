import type { CliCommand } from '../../core/module.js';
import { parseArgs } from '../../cli/args.js';
import { InputError } from '../../core/errors.js';
import { consoleActor } from '../../core/permissions/index.js';

export const adminCliCommands: CliCommand[] = [
  {
    name: 'user:create',
    summary: 'スタッフのアカウントを作成 / create a staff account',
    usage: 'user:create --login ID --name 氏名 [--email MAIL] [--role system_admin] [--org 組織コード] [--password PW]',
    needsDatabase: true,
    async run(p, args) {
      const { flags } = parseArgs(args);
      const org = typeof flags.org === 'string' ? await p.db.selectFrom('organizations').select('id').where('code', '=', flags.org).executeTakeFirst() : undefined;
      if (typeof flags.org === 'string' && !org) {
        console.error(`組織コード ${flags.org} が見つかりません / organisation not found`);
        return 2;
      }
      const roles = String(flags.role ?? 'system_admin').split(',');
      try {
        const { id, initialPassword } = await p.users.create(
          consoleActor(p.permissions),
          {
            loginId: String(flags.login ?? ''),
            displayName: String(flags.name ?? flags.login ?? ''),
            email: typeof flags.email === 'string' ? flags.email : '',
            organizationId: org ? String(org.id) : '',
            roles,
            password: typeof flags.password === 'string' ? flags.password : '',
          },
          { ip: 'cli', userAgent: 'machimado-cli' },
        );
        console.log(`ユーザを作成しました / created user #${id} (${String(flags.login)})`);
        if (initialPassword) console.log(`初期パスワード / one-time password: ${initialPassword}`);
        return 0;
      } catch (e) {
        if (e instanceof InputError) {
          for (const [field, msg] of Object.entries(e.fields)) console.error(`  ${field}: ${msg}`);
          return 2;
        }
        throw e;
      }
    },
  },
];
