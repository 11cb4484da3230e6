import { ConfigError, loadConfig } from '../core/config/index.js';
import type { CliCommand } from '../core/module.js';
import { createPlatform, ensureInitialAdministrator, seedDemoContent, startServer } from '../main.js';
import { platformModules } from '../modules/index.js';
import { coreCliCommands } from './core-commands.js';

function commands(): CliCommand[] {
  return [...coreCliCommands, ...platformModules().flatMap((m) => m.cli ?? [])];
}

function help(): string {
  const lines = commands().map((c) => `  ${c.name.padEnd(14)} ${c.summary}${c.usage ? `\n  ${''.padEnd(14)} usage: machimado ${c.usage}` : ''}`);
  return [
    'まちまど (Machimado) — 自治体向け住民サービス基盤',
    '',
    'usage: machimado <command> [options]',
    '',
    '  start          サーバを起動（初回は管理者を作成し表示） / serve the platform',
    ...lines,
    '',
    '設定は環境変数で行います（DATABASE_URL, PORT など。docs/operations.md を参照）。',
  ].join('\n');
}

/** Entry point of the `machimado` command; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return 0;
  }
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 78; // EX_CONFIG
    }
    throw e;
  }
  if (name === 'start') {
    const platform = await createPlatform(config);
    if (config.DEMO_CONTENT) await seedDemoContent(platform);
    const admin = await ensureInitialAdministrator(platform);
    // Demo content that names staff (the demo approval route) can only be made once the administrator exists.
    if (admin && config.DEMO_CONTENT) await seedDemoContent(platform);
    const running = await startServer(platform, { handleSignals: true });
    if (admin) {
      console.log(
        [
          '',
          '================================================================',
          ' まちまど の初回起動です。管理者アカウントを作成しました。',
          ` 管理画面:   ${process.env.BASE_URL ? config.BASE_URL : `http://localhost:${running.port}`}/admin`,
          ` ログインID: ${admin.loginId}`,
          ` 初期パスワード（一度だけ表示）: ${admin.password}`,
          ' 最初のログインでパスワードの変更を求めます。',
          '================================================================',
          '',
        ].join('\n'),
      );
    }
    console.log(`まちまど: http://localhost:${running.port}/ （管理画面 /admin）`);
    return new Promise<number>(() => {}); // runs until a signal
  }
  const command = commands().find((c) => c.name === name);
  if (!command) {
    console.error(`不明なコマンドです / unknown command: ${name}\n`);
    console.error(help());
    return 2;
  }
  const platform = await createPlatform({ ...config, LOG_LEVEL: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL }, { migrate: name !== 'restore' });
  try {
    return (await command.run(platform, rest)) ?? 0;
  } finally {
    await platform.close().catch(() => undefined);
  }
}
