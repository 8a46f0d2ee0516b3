// Unit tests of the extension's VS Code-free parts, under plain Node
// (`npm test`, run by `make test`). The settings mapping is also checked
// against the server's own decoder in lsp/vscode_settings_test.go.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { test } from 'node:test';
import {
  activityOf,
  findServer,
  missingCommands,
  missingServerMessage,
  sectionItems,
  serverCandidates,
  slug,
  statusText,
  shellQuote,
  trainCommandLine,
} from '../logic';
import { settingsToOptions } from '../settings';

test('the binary is looked for in r2c.path, then the workspace bin/, then PATH', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'r2c-ext-'));
  const ws = path.join(tmp, 'ws');
  const onPath = path.join(tmp, 'usr', 'bin');
  fs.mkdirSync(path.join(ws, 'bin'), { recursive: true });
  fs.mkdirSync(onPath, { recursive: true });
  const exec = (p: string): boolean => {
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  };
  const pathEnv = ['/nonexistent', onPath].join(path.delimiter);
  // Nothing anywhere.
  assert.strictEqual(findServer(serverCandidates('', [ws], pathEnv, 'linux'), exec), undefined);
  // Only on PATH.
  fs.writeFileSync(path.join(onPath, 'r2c'), '#!/bin/sh\n', { mode: 0o755 });
  assert.deepStrictEqual(findServer(serverCandidates('', [ws], pathEnv, 'linux'), exec), { path: path.join(onPath, 'r2c'), origin: 'PATH' });
  // The workspace's bin/r2c wins over PATH; a non-executable file does not count.
  fs.writeFileSync(path.join(ws, 'bin', 'r2c'), '#!/bin/sh\n', { mode: 0o644 });
  assert.strictEqual(findServer(serverCandidates('', [ws], pathEnv, 'linux'), exec)?.origin, 'PATH');
  fs.chmodSync(path.join(ws, 'bin', 'r2c'), 0o755);
  assert.deepStrictEqual(findServer(serverCandidates('', [ws], pathEnv, 'linux'), exec), { path: path.join(ws, 'bin', 'r2c'), origin: 'workspace' });
  // An explicit r2c.path is the only candidate: a wrong one is an error, not a silent fallback.
  const missing = path.join(tmp, 'nope', 'r2c');
  assert.strictEqual(findServer(serverCandidates(missing, [ws], pathEnv, 'linux'), exec), undefined);
  assert.match(missingServerMessage(missing), /r2c\.path setting names .*nope.*make build/);
  assert.match(missingServerMessage(''), /go install \.\/cmd\/r2c/);
  // A bare name in r2c.path is looked up like the default.
  assert.deepStrictEqual(serverCandidates('r2c-dev', [], onPath, 'linux'), [{ path: path.join(onPath, 'r2c-dev'), origin: 'PATH' }]);
});

test('a server without the commands this extension uses is too old', () => {
  assert.deepStrictEqual(missingCommands(['r2c.implement', 'r2c.validate', 'r2c.learnStyle', 'r2c.indexPaper']), ['r2c.sections']);
  assert.deepStrictEqual(missingCommands(['r2c.implement', 'r2c.validate', 'r2c.learnStyle', 'r2c.indexPaper', 'r2c.sections']), []);
  assert.strictEqual(missingCommands(undefined).length, 5);
});

test('the section picker lists the tree the server returns, in reading order', () => {
  const outline = {
    title: 'Attention Is All You Need',
    source: 'attention.pdf',
    format: 'pdf',
    pages: 15,
    sections: [
      { number: '1', title: 'Introduction', heading: '1 Introduction', level: 1, page: 1, equations: 0, algorithms: 0, children: [] },
      {
        number: '3', title: 'Model Architecture', heading: '3 Model Architecture', level: 1, page: 2, equations: 0, algorithms: 0,
        children: [
          {
            number: '3.2', title: 'Attention', heading: '3.2 Attention', level: 2, page: 3, equations: 0, algorithms: 0,
            children: [{ number: '3.2.1', title: 'Scaled Dot-Product Attention', heading: '3.2.1 Scaled Dot-Product Attention', level: 3, page: 4, equations: 1, algorithms: 0, children: null }],
          },
        ],
      },
      { number: '', title: 'Acknowledgments', heading: 'Acknowledgments', level: 1, equations: 0, algorithms: 2, children: [] },
    ],
  };
  const items = sectionItems(outline);
  assert.deepStrictEqual(items.map((i) => i.heading), ['1 Introduction', '3 Model Architecture', '3.2 Attention', '3.2.1 Scaled Dot-Product Attention', 'Acknowledgments']);
  assert.strictEqual(items[3].label, '\u2003\u2003' + '3.2.1 Scaled Dot-Product Attention');
  assert.strictEqual(items[3].description, 'p. 4 · 1 equation');
  assert.strictEqual(items[4].description, '2 algorithms');
  // A heading missing from an older answer is built from number and title.
  assert.strictEqual(sectionItems({ sections: [{ number: '2', title: 'Background', level: 1, equations: 0, algorithms: 0, children: [] }] })[0].heading, '2 Background');
});

test('the section picker turns bad answers into errors that name the fix', () => {
  assert.throws(() => sectionItems(null), /not a section tree.*too old/);
  assert.throws(() => sectionItems({ status: 'passed' }), /not a section tree/);
  assert.throws(() => sectionItems({ sections: [] }), /no sections were found.*LaTeX source/);
  assert.throws(() => sectionItems({ sections: null }), /no sections were found/);
});

test('folder names follow the server\'s slug rule', () => {
  assert.strictEqual(slug('3.2.1 Scaled Dot-Product Attention'), 'scaled_dot_product_attention');
  assert.strictEqual(slug('Layer 2 Norm'), 'layer_2_norm');
  assert.strictEqual(slug('3.2'), 'r2c_section');
});

test('the status bar shows the server state, the model and the running step', () => {
  assert.strictEqual(statusText('running', ''), '$(beaker) r2c: default model');
  assert.strictEqual(statusText('running', 'my-adapter', 'Implementer (round 2)'), '$(beaker) r2c: my-adapter · Implementer (round 2)');
  assert.strictEqual(statusText('failed', 'm'), '$(error) r2c: failed');
  assert.strictEqual(activityOf('Implementer: round 2: writing attention.py'), 'Implementer (round 2)');
  assert.strictEqual(activityOf('Planner: started'), 'Planner');
  assert.strictEqual(activityOf('parsing the paper'), 'parsing the paper');
  assert.strictEqual(activityOf(undefined), undefined);
});

test('every setting maps to the server configuration', () => {
  const v: Record<string, unknown> = { endpoint: ' http://gpu:8080/v1 ', model: 'my-adapter', validateOnSave: true };
  const opts = settingsToOptions(<T>(k: string, f: T) => (k in v ? (v[k] as T) : f));
  assert.deepStrictEqual(opts, {
    endpoint: 'http://gpu:8080/v1',
    model: { name: 'my-adapter' },
    style: { diagnostics: true },
    server: { validate_on_save: true },
  });
});

test('every contributed setting but r2c.path is read by the mapping', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const contributed = Object.keys(pkg.contributes.configuration.properties).map((k) => k.replace(/^r2c\./, ''));
  const read = new Set<string>();
  settingsToOptions(<T>(k: string, f: T) => {
    read.add(k);
    return f;
  });
  assert.deepStrictEqual(contributed.filter((k) => k !== 'path' && !read.has(k)), []);
  assert.deepStrictEqual([...read].filter((k) => !contributed.includes(k)), []);
});

test('every command the extension registers is contributed, with a category', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const src = fs.readFileSync(path.join(__dirname, '..', '..', 'src', 'extension.ts'), 'utf8');
  const registered = [...src.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]).sort();
  const contributed = pkg.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepStrictEqual(registered, contributed);
  for (const c of pkg.contributes.commands) {
    assert.strictEqual(c.category, 'r2c');
  }
});

test('Train Adapter runs the dataset and the fine-tune into a new folder, quoted for the shell', () => {
  const at = new Date(2026, 11, 3, 9, 5, 7);
  const { dir, line } = trainCommandLine('/opt/r2c/bin/r2c', "/home/me/my repo's", '', at);
  assert.strictEqual(dir, "/home/me/my repo's/.r2c/train/20261203-090507");
  assert.strictEqual(
    line,
    "/opt/r2c/bin/r2c train dataset --repo '/home/me/my repo'\\''s' --out '/home/me/my repo'\\''s/.r2c/train/20261203-090507/dataset' && " +
      "/opt/r2c/bin/r2c train run --data '/home/me/my repo'\\''s/.r2c/train/20261203-090507/dataset' --base codellama/CodeLlama-7b-Instruct-hf --out '/home/me/my repo'\\''s/.r2c/train/20261203-090507/run'",
  );
  assert.ok(trainCommandLine('r2c', '/w', 'org/model@main', at).line.includes('--base org/model@main'));
  assert.strictEqual(shellQuote('$(rm -rf ~)'), "'$(rm -rf ~)'");
});
