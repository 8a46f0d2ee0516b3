// The parts of the extension that depend on no VS Code API, so the unit
// tests (test/*.test.ts, run under plain Node) reach them directly: where
// the r2c binary is looked for, the section picker's items built from the
// server's r2c.sections answer, the status bar text and the run log lines.
import * as path from 'path';

/** Commands a server must offer for this extension to work with it. */
export const REQUIRED_COMMANDS = ['r2c.implement', 'r2c.validate', 'r2c.learnStyle', 'r2c.indexPaper', 'r2c.sections'];

/** One place the r2c binary may be, with why it is looked for there. */
export interface Candidate {
  path: string;
  origin: 'setting' | 'workspace' | 'PATH';
}

/**
 * The binaries to try, in order: the `r2c.path` setting when it names a
 * file (a bare name is looked up on PATH like the default), then each
 * workspace folder's `bin/r2c` (what `make build` writes), then PATH.
 */
export function serverCandidates(setting: string, workspaceFolders: string[], pathEnv: string, platform = process.platform): Candidate[] {
  const exe = platform === 'win32' ? 'r2c.exe' : 'r2c';
  const out: Candidate[] = [];
  const s = setting.trim();
  if (s !== '' && (s.includes('/') || s.includes('\\'))) {
    out.push({ path: s, origin: 'setting' });
    return out; // an explicit path is what the user wants, or an error
  }
  const name = s === '' ? exe : s;
  for (const w of workspaceFolders) {
    out.push({ path: path.join(w, 'bin', exe), origin: 'workspace' });
  }
  for (const dir of pathEnv.split(path.delimiter)) {
    if (dir !== '') {
      out.push({ path: path.join(dir, name), origin: 'PATH' });
    }
  }
  return out;
}

/** The first candidate isExecutable accepts, or undefined. */
export function findServer(candidates: Candidate[], isExecutable: (p: string) => boolean): Candidate | undefined {
  return candidates.find((c) => isExecutable(c.path));
}

/** What to tell the user when no binary was found; names the fix. */
export function missingServerMessage(setting: string): string {
  const s = setting.trim();
  if (s.includes('/') || s.includes('\\')) {
    return `r2c: the r2c.path setting names ${s}, which is not an executable file. Fix the setting, or build r2c with \`make build\` (it writes bin/r2c).`;
  }
  return 'r2c: the r2c binary was not found (looked at r2c.path, the workspace\'s bin/r2c and PATH). Install it with `go install ./cmd/r2c` or `make build` in the r2c repository, or set r2c.path.';
}

/** Commands of REQUIRED_COMMANDS that a server's initialize result lacks. */
export function missingCommands(offered: string[] | undefined): string[] {
  const have = new Set(offered ?? []);
  return REQUIRED_COMMANDS.filter((c) => !have.has(c));
}

/** A section of r2c.sections' answer (paper.OutlineSection). */
export interface SectionOutline {
  number: string;
  title: string;
  heading: string;
  level: number;
  page?: number;
  equations: number;
  algorithms: number;
  children: SectionOutline[] | null;
}

/** r2c.sections' answer (lsp.PaperOutline). */
export interface PaperOutline {
  title: string;
  source: string;
  format: string;
  pages: number;
  sections: SectionOutline[] | null;
  notes?: string[];
}

/** One row of the section picker. */
export interface SectionItem {
  label: string;
  description: string;
  /** What r2c.implement is asked for. */
  heading: string;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * The section picker's rows: the tree in reading order, children indented
 * under their parents, each with its page and what it holds. An answer that
 * is not an outline (an old server, a bug) throws with the reason.
 */
export function sectionItems(outline: unknown): SectionItem[] {
  if (typeof outline !== 'object' || outline === null || !('sections' in outline)) {
    throw new Error('the server\'s answer to r2c.sections is not a section tree (is r2c too old? `r2c version`)');
  }
  const out: SectionItem[] = [];
  const walk = (list: SectionOutline[] | null | undefined, depth: number): void => {
    for (const s of list ?? []) {
      const heading = (s.heading || [s.number, s.title].filter(Boolean).join(' ')).trim();
      if (heading === '') {
        continue;
      }
      const facts: string[] = [];
      if (s.page) {
        facts.push(`p. ${s.page}`);
      }
      if (s.equations > 0) {
        facts.push(plural(s.equations, 'equation'));
      }
      if (s.algorithms > 0) {
        facts.push(plural(s.algorithms, 'algorithm'));
      }
      out.push({ label: '\u2003'.repeat(depth) + heading, description: facts.join(' · '), heading });
      walk(s.children, depth + 1);
    }
  };
  walk((outline as PaperOutline).sections, 0);
  if (out.length === 0) {
    throw new Error('no sections were found in this paper; implement it from a heading in its text instead, or try its LaTeX source');
  }
  return out;
}

/** A folder name for a section, as the server makes one ("3.2 Scaled Dot-Product" → "scaled_dot_product"). */
export function slug(heading: string): string {
  let out = '';
  let under = false;
  for (const ch of heading.toLowerCase()) {
    const letter = ch >= 'a' && ch <= 'z';
    const digit = ch >= '0' && ch <= '9';
    if (letter || (digit && out.length > 0)) {
      out += ch;
      under = false;
    } else if (out.length > 0 && !under) {
      out += '_';
      under = true;
    }
  }
  out = out.replace(/^_+|_+$/g, '');
  return out === '' ? 'r2c_section' : out;
}

/** The server's lifecycle as the status bar shows it. */
export type ServerState = 'starting' | 'running' | 'stopped' | 'failed';

/** The status bar text: server state, model, and the running step if any. */
export function statusText(state: ServerState, model: string, activity?: string): string {
  const icon = { starting: '$(sync~spin)', running: '$(beaker)', stopped: '$(circle-slash)', failed: '$(error)' }[state];
  let text = `${icon} r2c`;
  if (state === 'running' || state === 'starting') {
    text += `: ${model.trim() || 'default model'}`;
  } else {
    text += `: ${state}`;
  }
  if (activity) {
    text += ` · ${activity}`;
  }
  return text;
}

/**
 * The step a progress message names, for the status bar: the server
 * reports "Implementer: round 2: writing attention.py" and the like.
 */
export function activityOf(message: string | undefined): string | undefined {
  if (!message) {
    return undefined;
  }
  const m = /^([A-Z][a-z]+):\s*(.*)$/.exec(message.trim());
  if (!m) {
    return message.length > 40 ? message.slice(0, 39) + '…' : message;
  }
  const round = /round\s+(\d+)/i.exec(m[2]);
  return round ? `${m[1]} (round ${round[1]})` : m[1];
}

/** One line of the run log. */
export function logLine(at: Date, title: string, message: string, percent?: number): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const t = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  const pct = percent === undefined ? '' : ` ${String(Math.round(percent)).padStart(3)}%`;
  return `[${t}]${pct} ${title}: ${message}`;
}

/** The default base model of `r2c train run` (the design's CodeLlama). */
export const DEFAULT_TRAIN_BASE = 'codellama/CodeLlama-7b-Instruct-hf';

/** Quotes one word for a POSIX shell. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The command line "Train Adapter…" runs in a terminal: the dataset from
 * the workspace's repository, then the LoRA fine-tune on it, both into a
 * new folder of their own under .r2c/train/ (named by the time, so a
 * second run never writes over the first).
 */
export function trainCommandLine(binary: string, folder: string, base: string, at: Date): { dir: string; line: string } {
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}${pad(at.getSeconds())}`;
  const dir = path.join(folder, '.r2c', 'train', stamp);
  const q = shellQuote;
  const dataset = path.join(dir, 'dataset');
  const line =
    `${q(binary)} train dataset --repo ${q(folder)} --out ${q(dataset)} && ` +
    `${q(binary)} train run --data ${q(dataset)} --base ${q(base.trim() || DEFAULT_TRAIN_BASE)} --out ${q(path.join(dir, 'run'))}`;
  return { dir, line };
}
