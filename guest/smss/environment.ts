// Phase "environment": every value of Session Manager\Environment, in stored order, into smss's
// environment; REG_EXPAND_SZ expanded against the environment as it is being built. SystemRoot is set
// first, as smss does before its registry query, so %SystemRoot% expands. Every process smss starts from
// here on gets this environment.
import { Environment } from "../../src/config/environment.ts";
import { ConfigError, stringValue, type SessionManagerKey } from "../../src/config/values.ts";
import type { EnvironmentData } from "../../src/events/index.ts";

export const SYSTEM_ROOT = "C:\\Windows";

export function configureEnvironment(sessionManager: SessionManagerKey): { environment: Environment; data: EnvironmentData } {
  const environment = new Environment();
  const variables: EnvironmentData["variables"] = [];
  const problems: string[] = [];
  environment.set("SystemRoot", SYSTEM_ROOT);
  variables.push({ name: "SystemRoot", value: SYSTEM_ROOT, expanded: false });
  const displayPath = `${sessionManager.displayPath}\\Environment`;
  for (const value of sessionManager.key.subkey("Environment")?.values() ?? []) {
    if (value.name === "") {
      problems.push(`${displayPath}: the unnamed (default) value names no variable; skipped`);
      continue;
    }
    try {
      const { text, expand } = stringValue(value, displayPath);
      const result = expand ? environment.expand(text) : text;
      environment.set(value.name, result);
      variables.push({ name: value.name, value: result, expanded: expand });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(`${error.message}; skipped`);
    }
  }
  return { environment, data: { variables, problems } };
}
