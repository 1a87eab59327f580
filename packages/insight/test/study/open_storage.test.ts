// Storage URLs: the accepted forms (sqlite:<file>, a plain path, SQLAlchemy's sqlite:///, postgres:// and
// postgresql://), a clear error for anything else, and passwords redacted wherever a URL is shown.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';

import { openStudyStorage } from '../../src/study/open_storage';
import { parseStorageUrl, redactUrl } from '../../src/study/storage_url';

describe('study storage URLs', () => {
  it('parses sqlite:<file>, plain paths and postgres URLs', () => {
    assert.deepEqual(parseStorageUrl('sqlite:study.db', '/work'), { kind: 'sqlite', file: '/work/study.db' });
    assert.deepEqual(parseStorageUrl('sqlite:/abs/study.db', '/work'), { kind: 'sqlite', file: '/abs/study.db' });
    assert.deepEqual(parseStorageUrl('sqlite:///rel/study.db', '/work'), { kind: 'sqlite', file: '/work/rel/study.db' });
    assert.deepEqual(parseStorageUrl('sqlite:////abs/study.db', '/work'), { kind: 'sqlite', file: '/abs/study.db' });
    assert.deepEqual(parseStorageUrl('runs/studies.db', '/work'), { kind: 'sqlite', file: '/work/runs/studies.db' });
    assert.deepEqual(parseStorageUrl('/data/s.db', '/work'), { kind: 'sqlite', file: '/data/s.db' });
    assert.deepEqual(parseStorageUrl('postgres://u:p@h:5432/db'), { kind: 'postgres', url: 'postgres://u:p@h:5432/db' });
    assert.deepEqual(parseStorageUrl('postgresql://h/db'), { kind: 'postgres', url: 'postgresql://h/db' });
  });

  it('refuses other schemes and malformed sqlite URLs, listing the accepted forms, without the password', () => {
    const cases: [string, RegExp][] = [
      ['mysql://root:hunter2@db/x', /^The study storage must be a SQLite file or a PostgreSQL URL; "mysql:" is neither\. Received: storage="mysql:\/\/root:\*\*\*@db\/x"\. Pass sqlite:<file> \(e\.g\. sqlite:study\.db\), a plain file path \(study\.db\), or postgres:\/\/user:password@host:5432\/database \(postgresql:\/\/ too\)\.$/],
      ['sqlite://host/x.db', /^A sqlite: storage names a file, not a host: sqlite:<file> or sqlite:\/\/\/<file>\. Received: storage="sqlite:\/\/host\/x\.db"\./],
      ['sqlite:', /^A sqlite: storage must name its file\./],
      ['postgres://tuner:hunter2@db:port/x', /^A PostgreSQL storage URL must be well-formed: postgres:\/\/user:password@host:port\/database \(special characters of a password %-encoded\)\. Received: storage="postgres:\/\/tuner:\*\*\*@db:port\/x"\./],
      ['  ', /^The study storage must be a SQLite file or a PostgreSQL URL\. Received: storage=" {2}"\./],
    ];
    for (const [url, message] of cases) {
      assert.throws(() => parseStorageUrl(url), (e: Error & { code: string }) => {
        assert.equal(e.code, 'INSIGHT_E_CONFIG');
        assert.match(e.message, message);
        assert.ok(!e.message.includes('hunter2'));
        return true;
      }, url);
    }
  });

  it('redacts passwords in the user part and in a password= parameter', () => {
    assert.equal(redactUrl('postgres://tuner:s3cr%40t@db.lan:5432/studies'), 'postgres://tuner:***@db.lan:5432/studies');
    assert.equal(redactUrl('postgresql://tuner:p@ss@db/x'), 'postgresql://tuner:***@db/x');
    assert.equal(redactUrl('postgres://tuner@db/x?sslmode=require&password=abc'), 'postgres://tuner@db/x?sslmode=require&password=***');
    assert.equal(redactUrl('postgres://db/x'), 'postgres://db/x');
    assert.equal(redactUrl('sqlite:/tmp/a:b.db'), 'sqlite:/tmp/a:b.db');
  });

  it('opens a SQLite storage from a plain relative path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'insight-open-storage-'));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      const storage = await openStudyStorage('studies/s.db');
      assert.equal(storage.url, `sqlite:${path.join(fs.realpathSync(dir), 'studies', 's.db')}`);
      await storage.close();
      assert.ok(fs.existsSync(path.join(dir, 'studies', 's.db')));
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
