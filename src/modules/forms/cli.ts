import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { CliCommand } from '../../core/module.js';
import { InputError } from '../../core/errors.js';
import { consoleActor } from '../../core/permissions/index.js';
import { formsOf } from './services.js';

export const formsCliCommands: CliCommand[] = [
  {
    name: 'forms:postal-import',
    summary: '郵便番号データ（日本郵便 KEN_ALL）を取り込む / import Japan Post postal codes',
    usage: 'forms:postal-import utf_ken_all.csv',
    needsDatabase: true,
    async run(p, args) {
      const file = args.find((a) => !a.startsWith('--'));
      if (!file) {
        console.error('ファイル名を指定してください / give the KEN_ALL CSV file: machimado forms:postal-import utf_ken_all.csv');
        return 2;
      }
      try {
        statSync(file);
      } catch {
        console.error(`ファイルが見つかりません / file not found: ${file}`);
        return 2;
      }
      try {
        const n = await formsOf(p).postal.importKenAll(readFileSync(file), { actor: consoleActor(p.permissions), ip: 'cli', userAgent: 'machimado-cli' }, basename(file));
        console.log(`郵便番号を${n}件取り込みました / imported ${n} postal codes`);
        return 0;
      } catch (e) {
        if (e instanceof InputError) {
          for (const msg of Object.values(e.fields)) console.error(msg);
          return 2;
        }
        throw e;
      }
    },
  },
];
