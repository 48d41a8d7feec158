/** `ip:port`, with IPv6 addresses in brackets (`[fd00::5]:8080`), as every registry writes it. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
