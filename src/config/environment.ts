// The environment smss builds from Session Manager\Environment and hands to every process it starts.
// Names are case-insensitive and keep the case they were first set with, as in Windows.

export class Environment {
  private readonly entries = new Map<string, { name: string; value: string }>();

  /** From execve's "NAME=value" strings; a name may begin with "=" (Windows' per-drive "=C:" variables). */
  static fromEnvp(envp: readonly string[]): Environment {
    const environment = new Environment();
    for (const entry of envp) {
      const equals = entry.indexOf("=", 1);
      if (equals > 0) environment.set(entry.slice(0, equals), entry.slice(equals + 1));
    }
    return environment;
  }

  get(name: string): string | undefined {
    return this.entries.get(name.toUpperCase())?.value;
  }

  set(name: string, value: string): void {
    const key = name.toUpperCase();
    this.entries.set(key, { name: this.entries.get(key)?.name ?? name, value });
  }

  /** Whether the variable was there to remove. */
  delete(name: string): boolean {
    return this.entries.delete(name.toUpperCase());
  }

  /** In the order first set. */
  list(): { name: string; value: string }[] {
    return [...this.entries.values()].map((entry) => ({ ...entry }));
  }

  /** "NAME=value" strings for execve. */
  toEnvp(): string[] {
    return this.list().map(({ name, value }) => `${name}=${value}`);
  }

  /**
   * %NAME% replaced by the variable's value, as RtlExpandEnvironmentStrings does: an unknown name, or a
   * lone %, stays as written. `dynamic` answers for names that are not set (cmd's %ERRORLEVEL%, %CD%).
   */
  expand(text: string, dynamic?: (name: string) => string | undefined): string {
    let out = "";
    let at = 0;
    for (;;) {
      const open = text.indexOf("%", at);
      if (open < 0) return out + text.slice(at);
      const close = text.indexOf("%", open + 1);
      if (close < 0) return out + text.slice(at);
      const name = text.slice(open + 1, close);
      const value = close > open + 1 ? (this.get(name) ?? dynamic?.(name)) : undefined;
      if (value === undefined) {
        out += text.slice(at, close);
        at = close;
        continue;
      }
      out += text.slice(at, open) + value;
      at = close + 1;
    }
  }
}
