// r2c for VS Code: starts `r2c serve` through vscode-languageclient and adds
// the palette commands, a status bar item, a run log and an API key kept in
// VS Code's SecretStorage. Diagnostics, quick fixes and the code actions come
// from the language server itself; the parts that need no VS Code API are in
// logic.ts and settings.ts.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  State,
  WorkDoneProgress,
  WorkDoneProgressBegin,
  WorkDoneProgressCancelNotification,
  WorkDoneProgressEnd,
  WorkDoneProgressReport,
} from 'vscode-languageclient/node';
import {
  activityOf,
  DEFAULT_TRAIN_BASE,
  findServer,
  logLine,
  missingCommands,
  missingServerMessage,
  sectionItems,
  serverCandidates,
  ServerState,
  slug,
  statusText,
  trainCommandLine,
} from './logic';
import { settingsToOptions } from './settings';

const SECRET_KEY = 'r2c.apiKey';
/** The variable the server reads its API key from (r2c.toml's default api_key_env). */
const API_KEY_ENV = 'R2C_API_KEY';

let client: LanguageClient | undefined;
let context: vscode.ExtensionContext;
let status: vscode.StatusBarItem;
let runLog: vscode.OutputChannel;
let serverState: ServerState = 'stopped';
let activity: string | undefined;
let tokenSeq = 0;

function cfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('r2c');
}

function options(c: vscode.WorkspaceConfiguration): Record<string, unknown> {
  return settingsToOptions(<T>(key: string, fallback: T) => c.get<T>(key, fallback));
}

function updateStatus(): void {
  status.text = statusText(serverState, cfg().get<string>('model', ''), activity);
  status.tooltip = `r2c language server: ${serverState}. Click for the run log.`;
  status.show();
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

async function offerSettings(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, 'Open settings');
  if (choice === 'Open settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'r2c.path');
  }
}

function failed(err: unknown): void {
  const msg = err instanceof Error ? err.message : String((err as { message?: unknown })?.message ?? err);
  runLog.appendLine(logLine(new Date(), 'error', msg));
  void vscode.window.showErrorMessage(`r2c: ${msg}`);
}

/**
 * Runs one server command with a progress notification of our own (the
 * request carries our workDoneToken, so the server reports to it): each
 * step goes to the run log and the status bar, and Cancel cancels the run.
 */
async function execute<T>(command: string, args: unknown[], title: string): Promise<T | undefined> {
  const c = client;
  if (!c || !c.isRunning()) {
    throw new Error('the r2c language server is not running (run "r2c: Restart Server")');
  }
  const token = `r2c-vscode-${++tokenSeq}`;
  runLog.appendLine(logLine(new Date(), title, 'started'));
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `r2c: ${title}`, cancellable: true },
    async (progress, cancel) => {
      let last = 0;
      const onStep = (message: string | undefined, percent: number | undefined): void => {
        if (message) {
          runLog.appendLine(logLine(new Date(), title, message, percent));
          activity = activityOf(message);
          updateStatus();
        }
        const inc = percent !== undefined && percent > last ? percent - last : undefined;
        if (percent !== undefined && percent > last) {
          last = percent;
        }
        progress.report({ message, increment: inc });
      };
      const sub = c.onProgress(WorkDoneProgress.type, token, (v: WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd) => {
        if (v.kind === 'end') {
          if (v.message) {
            runLog.appendLine(logLine(new Date(), title, v.message, 100));
          }
          return;
        }
        onStep(v.message, v.percentage);
      });
      const stop = cancel.onCancellationRequested(() => {
        runLog.appendLine(logLine(new Date(), title, 'cancel requested'));
        void c.sendNotification(WorkDoneProgressCancelNotification.type, { token });
      });
      try {
        return await c.sendRequest(ExecuteCommandRequest.type, { command, arguments: args, workDoneToken: token });
      } finally {
        sub.dispose();
        stop.dispose();
        activity = undefined;
        updateStatus();
      }
    },
  );
}

function report(result: unknown): void {
  const msg = (result as { message?: unknown } | undefined)?.message;
  if (typeof msg === 'string') {
    void vscode.window.showInformationMessage(`r2c: ${msg}`);
  }
}

interface PaperPick extends vscode.QuickPickItem {
  paper?: string;
  id?: 'arxiv' | 'browse';
}

/** The paper: one of the workspace's papers, an arXiv id, or a file elsewhere. */
async function pickPaper(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles('**/*.{pdf,md,tex}', '{**/node_modules/**,**/.git/**,**/.r2c/**,**/README.md}', 200);
  const items: PaperPick[] = files
    .map((u) => ({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), paper: u.fsPath }))
    .sort((a, b) => a.description.localeCompare(b.description));
  items.push(
    { label: 'Enter an arXiv id or URL…', detail: 'e.g. 1706.03762', id: 'arxiv' },
    { label: 'Choose a paper file…', detail: '.pdf, .md, .tex or .txt outside the list', id: 'browse' },
  );
  const pick = await vscode.window.showQuickPick(items, {
    title: 'r2c: Implement Paper Section (1/3): the paper',
    placeHolder: 'A paper in this workspace, an arXiv id, or a file',
    matchOnDescription: true,
  });
  if (!pick) {
    return undefined;
  }
  if (pick.paper) {
    return pick.paper;
  }
  if (pick.id === 'arxiv') {
    return vscode.window.showInputBox({ title: 'r2c: arXiv id or URL', placeHolder: '1706.03762' });
  }
  const chosen = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { Papers: ['pdf', 'md', 'tex', 'txt'] },
    openLabel: 'Implement from this paper',
  });
  return chosen?.[0]?.fsPath;
}

interface FolderPick extends vscode.QuickPickItem {
  dir?: string;
}

/** The target folder: a new folder named after the section, or one chosen. */
async function pickFolder(heading: string, paper: string): Promise<string | undefined> {
  const root = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const base = root ?? path.dirname(paper);
  const suggested = path.join(base, slug(heading));
  const items: FolderPick[] = [
    { label: vscode.workspace.asRelativePath(suggested) || slug(heading), description: 'new folder for this section', dir: suggested },
    { label: 'Choose another folder…' },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'r2c: Implement Paper Section (3/3): the target folder' });
  if (!pick) {
    return undefined;
  }
  if (pick.dir) {
    return pick.dir;
  }
  const folders = await vscode.window.showOpenDialog({
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: root ? vscode.Uri.file(root) : undefined,
    openLabel: 'Write the code here',
  });
  return folders?.[0]?.fsPath;
}

async function implementSection(): Promise<void> {
  try {
    const paper = await pickPaper();
    if (!paper) {
      return;
    }
    const outline = await execute<unknown>('r2c.sections', [{ paper }], `Read ${path.basename(paper)}`);
    const items = sectionItems(outline);
    const section = await vscode.window.showQuickPick(items, {
      title: `r2c: Implement Paper Section (2/3): the section of ${path.basename(paper)}`,
      placeHolder: 'Type to filter by number or title',
      matchOnDescription: true,
    });
    if (!section) {
      return;
    }
    const targetDir = await pickFolder(section.heading, paper);
    if (!targetDir) {
      return;
    }
    const result = await execute<{ files?: string[]; applied?: boolean; message?: string }>(
      'r2c.implement',
      [{ paper, section: section.heading, targetDir }],
      `Implement ${section.heading}`,
    );
    report(result);
    const first = result?.files?.find((f) => f.endsWith('.py') && !path.basename(f).startsWith('test_')) ?? result?.files?.[0];
    if (first) {
      await vscode.window.showTextDocument(vscode.Uri.file(first), { preview: false });
    }
  } catch (err) {
    failed(err);
  }
}

async function validateModule(): Promise<void> {
  const doc = vscode.window.activeTextEditor?.document;
  if (!doc || doc.languageId !== 'python') {
    void vscode.window.showWarningMessage('r2c: open a Python module to validate it');
    return;
  }
  try {
    report(await execute('r2c.validate', [{ uri: doc.uri.toString() }], `Validate ${path.basename(doc.fileName)}`));
  } catch (err) {
    failed(err);
  }
}

async function learnMyStyle(): Promise<void> {
  try {
    const result = await execute<{ summary?: string; files?: number; profile?: string }>('r2c.learnStyle', [], 'Learn my style');
    if (result?.summary) {
      void vscode.window.showInformationMessage(
        `r2c learned your style from ${result.files} files (saved to ${path.basename(result.profile ?? '')}).`,
      );
    }
  } catch (err) {
    failed(err);
  }
}

async function indexPaper(): Promise<void> {
  try {
    const paper = await pickPaper();
    if (!paper) {
      return;
    }
    report(await execute('r2c.indexPaper', [{ paper }], `Index ${path.basename(paper)}`));
  } catch (err) {
    failed(err);
  }
}

// trainAdapter runs `r2c train dataset` on the first workspace folder and
// `r2c train run` on the result in a terminal, where its progress bars,
// Ctrl-C (a checkpoint) and the serving lines at the end are the CLI's own.
async function trainAdapter(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) {
    void vscode.window.showErrorMessage('r2c: Train Adapter needs an open folder: the git repository to learn from.');
    return;
  }
  const setting = cfg().get<string>('path', '') ?? '';
  const found = findServer(serverCandidates(setting === 'r2c' ? '' : setting, [folder], process.env.PATH ?? ''), isExecutable);
  if (!found) {
    void offerSettings(missingServerMessage(setting));
    return;
  }
  const base = await vscode.window.showInputBox({
    title: 'r2c: Train Adapter — base model',
    prompt: 'A Hugging Face model id or a local model folder. `r2c train setup` must have made the training environment.',
    value: DEFAULT_TRAIN_BASE,
    ignoreFocusOut: true,
  });
  if (base === undefined) {
    return;
  }
  const { dir, line } = trainCommandLine(found.path, folder, base, new Date());
  runLog.appendLine(logLine(new Date(), 'Train adapter', `${line} (output in ${dir})`));
  const terminal = vscode.window.createTerminal({ name: 'r2c train', cwd: folder });
  terminal.show();
  terminal.sendText(line, true);
}

async function setApiKey(): Promise<void> {
  const key = await vscode.window.showInputBox({
    title: 'r2c: API key for the model server',
    prompt: 'Kept in VS Code\'s secret storage and given to the server in its environment; empty removes it.',
    password: true,
    ignoreFocusOut: true,
  });
  if (key === undefined) {
    return;
  }
  if (key.trim() === '') {
    await context.secrets.delete(SECRET_KEY);
  } else {
    await context.secrets.store(SECRET_KEY, key.trim());
  }
  runLog.appendLine(logLine(new Date(), 'API key', key.trim() === '' ? 'removed; restarting the server' : 'stored; restarting the server'));
  await restartServer();
}

async function restartServer(): Promise<void> {
  await stopServer();
  await startServer();
}

async function stopServer(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop(5000);
    } catch {
      // The process is gone either way.
    }
  }
  serverState = 'stopped';
  updateStatus();
}

async function startServer(): Promise<void> {
  const c0 = cfg();
  const setting = c0.get<string>('path', '') ?? '';
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  const found = findServer(serverCandidates(setting === 'r2c' ? '' : setting, folders, process.env.PATH ?? ''), isExecutable);
  if (!found) {
    serverState = 'failed';
    updateStatus();
    runLog.appendLine(logLine(new Date(), 'server', missingServerMessage(setting)));
    void offerSettings(missingServerMessage(setting));
    return;
  }
  const env: NodeJS.ProcessEnv = { ...process.env };
  const key = await context.secrets.get(SECRET_KEY);
  if (key) {
    env[API_KEY_ENV] = key;
  }
  // No transport: vscode-languageclient then speaks over the process's
  // stdio without appending a --stdio flag.
  const serverOptions: ServerOptions = { command: found.path, args: ['serve'], options: { env } };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'file', language: 'markdown' },
      { scheme: 'file', language: 'latex' },
      { scheme: 'file', language: 'tex' },
    ],
    initializationOptions: options(c0),
  };
  const c = new LanguageClient('r2c', 'r2c', serverOptions, clientOptions);
  client = c;
  c.onDidChangeState((e) => {
    if (client !== c) {
      return;
    }
    serverState = e.newState === State.Running ? 'running' : e.newState === State.Starting ? 'starting' : 'stopped';
    updateStatus();
  });
  serverState = 'starting';
  updateStatus();
  runLog.appendLine(logLine(new Date(), 'server', `starting ${found.path} serve (found through ${found.origin})`));
  try {
    await c.start();
  } catch (err) {
    serverState = 'failed';
    updateStatus();
    void offerSettings(`r2c: could not start "${found.path} serve": ${String(err)}. Install a current r2c or set r2c.path.`);
    return;
  }
  const offered = c.initializeResult?.capabilities.executeCommandProvider?.commands;
  const missing = missingCommands(offered);
  const version = c.initializeResult?.serverInfo?.version ?? 'unknown';
  runLog.appendLine(logLine(new Date(), 'server', `running, version ${version}`));
  if (missing.length > 0) {
    void offerSettings(
      `r2c: ${found.path} (version ${version}) is too old for this extension: it lacks ${missing.join(', ')}. Update it (\`make build\` or \`go install ./cmd/r2c\` in the r2c repository) or point r2c.path at a newer one.`,
    );
  }
}

export async function activate(ctx: vscode.ExtensionContext): Promise<void> {
  context = ctx;
  runLog = vscode.window.createOutputChannel('r2c Runs');
  status = vscode.window.createStatusBarItem('r2c.status', vscode.StatusBarAlignment.Left, 10);
  status.name = 'r2c';
  status.command = 'r2c.showRunLog';
  updateStatus();
  ctx.subscriptions.push(
    runLog,
    status,
    vscode.commands.registerCommand('r2c.implementSection', implementSection),
    vscode.commands.registerCommand('r2c.validateModule', validateModule),
    vscode.commands.registerCommand('r2c.learnMyStyle', learnMyStyle),
    vscode.commands.registerCommand('r2c.indexPaperFile', indexPaper),
    vscode.commands.registerCommand('r2c.showRunLog', () => runLog.show(true)),
    vscode.commands.registerCommand('r2c.restartServer', restartServer),
    vscode.commands.registerCommand('r2c.setApiKey', setApiKey),
    vscode.commands.registerCommand('r2c.trainAdapter', trainAdapter),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('r2c.path')) {
        void restartServer();
      } else if (e.affectsConfiguration('r2c') && client?.isRunning()) {
        void client.sendNotification(DidChangeConfigurationNotification.type, { settings: options(cfg()) });
        updateStatus();
      }
    }),
  );
  await startServer();
}

export async function deactivate(): Promise<void> {
  await stopServer();
}
