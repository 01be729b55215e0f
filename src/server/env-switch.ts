const ON = ['on', 'true', '1'];
const OFF = ['off', 'false', '0'];

/**
 * An on/off variable of the server (`METRICS`, `ADMIN`): `on|true|1` or `off|false|0`, any case, off when unset or
 * empty. Anything else pushes `<NAME> must be on or off` and answers `null`, so every problem is reported at once.
 */
export function parseOnOff(env: NodeJS.ProcessEnv, name: string, problems: string[]): boolean | null {
  const value = (env[name] || 'off').toLowerCase();
  if (ON.includes(value)) return true;
  if (OFF.includes(value)) return false;
  problems.push(`${name} must be on or off`);
  return null;
}
