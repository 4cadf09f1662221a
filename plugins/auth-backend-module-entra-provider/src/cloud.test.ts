import { resolveCloud } from './authenticator';

describe('sovereign clouds', () => {
  it.each([
    [
      undefined,
      'https://login.microsoftonline.com',
      'https://graph.microsoft.com',
    ],
    [
      'public',
      'https://login.microsoftonline.com',
      'https://graph.microsoft.com',
    ],
    [
      'usgovernment',
      'https://login.microsoftonline.us',
      'https://graph.microsoft.us',
    ],
    [
      'China',
      'https://login.chinacloudapi.cn',
      'https://microsoftgraph.chinacloudapi.cn',
    ],
    [
      'https://login.microsoftonline.us/',
      'https://login.microsoftonline.us',
      'https://graph.microsoft.us',
    ],
    [
      'http://localhost:7100',
      'http://localhost:7100',
      'https://graph.microsoft.com',
    ],
  ])(
    'authority %s signs in at %s and reads groups from %s',
    (name, authority, graph) => {
      expect(resolveCloud(name)).toEqual({ authority, graphResource: graph });
    },
  );

  it('refuses an authority that is neither a cloud name nor a URL', () => {
    expect(() => resolveCloud('azure-germany')).toThrow(
      /must be public, usgovernment, china or a URL/,
    );
  });
});
