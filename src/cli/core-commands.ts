import type { CliCommand } from '../core/module.js';
import { BackupError } from '../core/backup/index.js';
import { parseArgs, progressPrinter } from './args.js';

/** The foundation's console commands; modules add theirs through their `cli` declaration. */
export const coreCliCommands: CliCommand[] = [
  {
    name: 'migrate',
    summary: 'データベースを最新の構造に更新 / apply database migrations',
    needsDatabase: true,
    async run() {
      // Opening the platform already migrated; this command exists for deploy scripts.
      console.log('マイグレーションを適用しました / database is up to date');
    },
  },
  {
    name: 'backup',
    summary: 'バックアップを取得（世代管理つき） / take a checksummed backup',
    usage: 'backup [--reason TEXT]',
    needsDatabase: true,
    async run(p, args) {
      const { flags } = parseArgs(args);
      const info = await p.backup.backup({ reason: typeof flags.reason === 'string' ? flags.reason : 'manual', onProgress: progressPrinter('backup') });
      const pruned = await p.backup.prune();
      await p.audit.record({ action: 'backup.run', summary: `バックアップを取得しました（CLI）: ${info.file}`, targetType: 'backup', targetId: info.file.split('/').pop() ?? null });
      console.log(`${info.file}\nsha256 ${info.sha256}  ${info.bytes} bytes`);
      for (const d of info.directories ?? []) console.log(`${d.key}: ${d.files} files, ${d.bytes} bytes (${d.method === 'link' ? 'hard links' : 'copies'})`);
      if (pruned.length) console.log(`古い世代を削除 / pruned: ${pruned.length}`);
    },
  },
  {
    name: 'backups',
    summary: '保管中のバックアップ一覧 / list backups',
    needsDatabase: true,
    async run(p) {
      for (const b of await p.backup.list()) console.log(`${b.createdAt}  ${String(b.bytes).padStart(12)}  ${b.sha256.slice(0, 16)}  ${b.file}`);
    },
  },
  {
    name: 'restore',
    summary: 'バックアップから復元（チェックサムを検証） / restore a backup after verifying it',
    usage: 'restore FILE   (サーバを停止してから実行 / stop the server first)',
    needsDatabase: true,
    async run(p, args) {
      const file = parseArgs(args).positional[0];
      if (!file) {
        console.error('復元するファイルを指定してください / usage: machimado restore FILE');
        return 2;
      }
      try {
        await p.jobs.stop();
        // restore() verifies the database file and every snapshot file before it changes anything.
        const result = await p.backup.restore(file, { onProgress: progressPrinter('restore') });
        for (const w of result.warnings) console.error(`注意 / warning: ${w}`);
        for (const d of result.directories) {
          console.log(`${d.key}: ${d.files} files → ${d.path}${d.asideDir ? `\n  バックアップ後に追加されたファイル ${d.asideFiles} 件を移動 / ${d.asideFiles} files added after the backup moved to ${d.asideDir}` : ''}`);
        }
        console.log('復元しました / restored');
        return 0;
      } catch (e) {
        if (e instanceof BackupError) {
          if (e.code === 'checksum_mismatch' || e.code === 'files_mismatch') console.error('チェックサムが一致しません。復元を中止しました / checksum mismatch, nothing restored');
          console.error(e.message);
          return 1;
        }
        throw e;
      }
    },
  },
  {
    name: 'audit:verify',
    summary: '操作ログの改ざん検査（ハッシュチェーン） / verify the audit hash chain',
    needsDatabase: true,
    async run(p) {
      const progress = progressPrinter('audit:verify');
      const result = await p.audit.verify((checked, total) => progress(total ? (checked / total) * 100 : 100));
      if (result.ok) {
        console.log(`改ざんは検出されませんでした / OK: ${result.checked} entries verified`);
        return 0;
      }
      console.error(`改ざんを検出しました / TAMPERING DETECTED (${result.problems.length} problems in ${result.checked} entries):`);
      for (const pr of result.problems) console.error(`  #${pr.id ?? '-'} [${pr.kind}] ${pr.problem}`);
      return 1;
    },
  },
];
