/** Microsoft's clouds: where to sign in and where Graph is. */
export const ENTRA_CLOUDS = {
  public: {
    authority: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
  },
  usgovernment: {
    authority: 'https://login.microsoftonline.us',
    graph: 'https://graph.microsoft.us',
  },
  china: {
    authority: 'https://login.chinacloudapi.cn',
    graph: 'https://microsoftgraph.chinacloudapi.cn',
  },
} as const;

/** A cloud name of `cloud`. */
export type EntraCloud = keyof typeof ENTRA_CLOUDS;

/**
 * The Graph scope for a Graph base URL: the cloud's own Graph for Microsoft's hosts, the
 * public one for anything else (an emulator, or a proxy in front of Graph).
 */
export function graphScope(graphBaseUrl: string): string {
  const origin = new URL(graphBaseUrl).origin;
  const microsoft = Object.values(ENTRA_CLOUDS).some(c => c.graph === origin);
  return `${microsoft ? origin : ENTRA_CLOUDS.public.graph}/.default`;
}
