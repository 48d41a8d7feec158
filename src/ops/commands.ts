/** The operator commands: `registrator ls`, `registrator diff` and `registrator check`. */
export const OPS_COMMANDS = ['ls', 'diff', 'check'] as const;
export type OpsCommand = (typeof OPS_COMMANDS)[number];

export function isOpsCommand(word: string | undefined): word is OpsCommand {
  return (OPS_COMMANDS as readonly string[]).includes(word ?? '');
}
