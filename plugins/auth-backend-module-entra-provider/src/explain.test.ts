import { mockServices } from '@backstage/backend-test-utils';
import { NotAllowedError } from '@backstage/errors';
import { explained, explainFailure } from './explain';

describe('explainFailure', () => {
  it('logs and shows the same text with a new correlation id', () => {
    const logger = mockServices.logger.mock();
    const e = explainFailure(
      new NotAllowedError('Sign-in refused: no catalog user'),
      logger,
      'Sign-in',
    );
    const id = /correlation id ([0-9a-f-]{36})/.exec(e.message)?.[1];
    expect(id).toBeDefined();
    expect(e.name).toBe('NotAllowedError');
    expect(logger.warn).toHaveBeenCalledWith(
      `Sign-in failed, correlation id ${id}: ${e.message}`,
    );
  });

  it("keeps Entra's correlation id when the error carries one", async () => {
    const logger = mockServices.logger.mock();
    const entra =
      'AADSTS50011: The redirect URI ... Correlation ID: 0b6a4f0e-1111-4222-8333-944445555666 Timestamp: x';
    const fn = explained(
      async () => {
        throw new Error(entra);
      },
      logger,
      'Entra ID sign-in',
    );
    await expect(fn()).rejects.toThrow(entra);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringContaining(
        'correlation id 0b6a4f0e-1111-4222-8333-944445555666',
      ),
    );
  });
});
