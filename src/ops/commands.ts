/** The operator commands: `registrator ls`, `diff`, `check` and `explain`. */
const OPS_COMMANDS = ['ls', 'diff', 'check', 'explain'] as const;
export type OpsCommand = (typeof OPS_COMMANDS)[number];

export function isOpsCommand(word: string | undefined): word is OpsCommand {
  return (OPS_COMMANDS as readonly string[]).includes(word ?? '');
}
