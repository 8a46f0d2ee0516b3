// The mapping from VS Code settings (r2c.*) to r2c's configuration object,
// which the server reads with the same schema as r2c.toml. It depends on no
// VS Code API so it can be checked outside the editor.

/** Reads one setting; VS Code's WorkspaceConfiguration.get has this shape. */
export type SettingGetter = <T>(key: string, fallback: T) => T;

/** r2c's configuration object (the keys of r2c.toml) built from VS Code settings. */
export function settingsToOptions(get: SettingGetter): Record<string, unknown> {
  const opts: Record<string, any> = {};
  const str = (key: string): string => String(get<string>(key, '') ?? '').trim();
  if (str('endpoint')) {
    opts.endpoint = str('endpoint');
  }
  if (str('model')) {
    opts.model = { name: str('model') };
  }
  opts.style = { diagnostics: get<boolean>('styleDiagnostics', true) };
  if (str('styleProfile')) {
    opts.style.profile = str('styleProfile');
  }
  if (str('python')) {
    opts.sandbox = { python: str('python') };
  }
  opts.server = { validate_on_save: get<boolean>('validateOnSave', false) };
  if (str('debounce')) {
    opts.server.debounce = str('debounce');
  }
  if (str('logFile')) {
    opts.server.log_file = str('logFile');
  }
  return opts;
}
