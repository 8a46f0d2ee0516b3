// r2c for VS Code: starts `r2c serve` through vscode-languageclient and adds
// three palette commands. Diagnostics, quick fixes, progress (with a cancel
// button) and the code actions come from the language server itself.
import * as path from 'path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from 'vscode-languageclient/node';
import { settingsToOptions } from './settings';

let client: LanguageClient | undefined;

function options(cfg: vscode.WorkspaceConfiguration): Record<string, unknown> {
  return settingsToOptions(<T>(key: string, fallback: T) => cfg.get<T>(key, fallback));
}

async function execute(command: string, args: unknown[]): Promise<any> {
  if (!client) {
    throw new Error('the r2c language server is not running');
  }
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
}

function report(result: any): void {
  if (result && typeof result.message === 'string') {
    void vscode.window.showInformationMessage(`r2c: ${result.message}`);
  }
}

function failed(err: unknown): void {
  const msg = err instanceof Error ? err.message : String((err as any)?.message ?? err);
  void vscode.window.showErrorMessage(`r2c: ${msg}`);
}

/** Asks for a paper (file, arXiv id or URL), a section and a target folder. */
async function implementSection(): Promise<void> {
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'Choose a paper file…', detail: '.pdf, .md, .tex or .txt', id: 'file' },
      { label: 'Enter an arXiv id or URL…', detail: 'e.g. 1706.03762', id: 'arxiv' },
    ],
    { title: 'r2c: Implement paper section (1/3): the paper' },
  );
  if (!pick) {
    return;
  }
  let paper: string | undefined;
  if (pick.id === 'file') {
    const files = await vscode.window.showOpenDialog({
      canSelectMany: false,
      filters: { Papers: ['pdf', 'md', 'tex', 'txt'] },
      openLabel: 'Implement from this paper',
    });
    paper = files?.[0]?.fsPath;
  } else {
    paper = await vscode.window.showInputBox({ title: 'r2c: arXiv id or URL', placeHolder: '1706.03762' });
  }
  if (!paper) {
    return;
  }
  const section = await vscode.window.showInputBox({
    title: 'r2c: Implement paper section (2/3): the section',
    prompt: 'A number, a title, or both',
    placeHolder: '3.2 Scaled Dot-Product Attention',
  });
  if (!section) {
    return;
  }
  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  const folders = await vscode.window.showOpenDialog({
    title: 'r2c: Implement paper section (3/3): the target folder',
    canSelectFiles: false,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: root,
    openLabel: 'Write the code here',
  });
  const targetDir = folders?.[0]?.fsPath;
  if (!targetDir) {
    return;
  }
  try {
    report(await execute('r2c.implement', [{ paper, section, targetDir }]));
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
    report(await execute('r2c.validate', [{ uri: doc.uri.toString() }]));
  } catch (err) {
    failed(err);
  }
}

async function learnMyStyle(): Promise<void> {
  try {
    const result = await execute('r2c.learnStyle', []);
    if (result?.summary) {
      void vscode.window.showInformationMessage(
        `r2c learned your style from ${result.files} files (saved to ${path.basename(result.profile)}).`,
      );
    }
  } catch (err) {
    failed(err);
  }
}

async function indexPaperFile(): Promise<void> {
  const files = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { Papers: ['pdf', 'md', 'tex', 'txt'] },
    openLabel: 'Index this paper',
  });
  const paper = files?.[0]?.fsPath;
  if (!paper) {
    return;
  }
  try {
    report(await execute('r2c.indexPaper', [{ paper }]));
  } catch (err) {
    failed(err);
  }
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const cfg = vscode.workspace.getConfiguration('r2c');
  const serverOptions: ServerOptions = {
    command: cfg.get<string>('path', 'r2c') || 'r2c',
    args: ['serve'],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'file', language: 'markdown' },
      { scheme: 'file', language: 'latex' },
      { scheme: 'file', language: 'tex' },
    ],
    initializationOptions: options(cfg),
  };
  client = new LanguageClient('r2c', 'r2c', serverOptions, clientOptions);
  context.subscriptions.push(
    vscode.commands.registerCommand('r2c.implementSection', implementSection),
    vscode.commands.registerCommand('r2c.validateModule', validateModule),
    vscode.commands.registerCommand('r2c.learnMyStyle', learnMyStyle),
    vscode.commands.registerCommand('r2c.indexPaperFile', indexPaperFile),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('r2c') && client) {
        void client.sendNotification(DidChangeConfigurationNotification.type, {
          settings: options(vscode.workspace.getConfiguration('r2c')),
        });
      }
    }),
  );
  try {
    await client.start();
  } catch (err) {
    failed(new Error(`could not start "${serverOptions.command} serve": ${String(err)}. Install r2c or set r2c.path.`));
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
