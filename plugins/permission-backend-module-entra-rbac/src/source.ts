import {
  AuditorService,
  LoggerService,
  RootConfigService,
} from '@backstage/backend-plugin-api';
import fs from 'node:fs';
import path from 'node:path';
import { EntraRbacConfigError, RbacConfig, readRbacConfig } from './config';

/** Where the policy configuration stands: what is in force, and the last failed reload. */
export interface RbacSourceStatus {
  origin: string;
  loadedAt: string;
  roles: number;
  lastReloadError?: { message: string; at: string };
}

/**
 * Holds the policy configuration in force and reloads it when app-config changes (config
 * subscription) or the roles file changes (file watch). A reload that fails validation keeps
 * the previous configuration, so a broken edit can never allow more than before.
 */
export class RbacConfigSource {
  private config: RbacConfig;
  private loadedAt = new Date();
  private lastReloadError?: { message: string; at: string };
  private watcher?: fs.FSWatcher;
  private watched?: string;
  private timer?: NodeJS.Timeout;
  private readonly listeners: ((config: RbacConfig) => void)[] = [];

  /** Loads the configuration; throws {@link EntraRbacConfigError} when it is invalid. */
  constructor(
    private readonly rootConfig: RootConfigService,
    private readonly logger: LoggerService,
    private readonly auditor: AuditorService,
  ) {
    this.config = readRbacConfig(rootConfig);
  }

  current = (): RbacConfig => this.config;

  status(): RbacSourceStatus {
    return {
      origin: this.config.origin,
      loadedAt: this.loadedAt.toISOString(),
      roles: this.config.roles.length,
      ...(this.lastReloadError
        ? { lastReloadError: this.lastReloadError }
        : {}),
    };
  }

  onChange(listener: (config: RbacConfig) => void) {
    this.listeners.push(listener);
  }

  /** Starts following app-config and the roles file. */
  start() {
    this.rootConfig.subscribe?.(() => this.scheduleReload('app-config'));
    this.watchFile();
  }

  stop() {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private watchFile() {
    const file = this.config.rolesFile;
    if (file === this.watched) return;
    this.watcher?.close();
    this.watcher = undefined;
    this.watched = file;
    if (!file) return;
    // The directory, not the file: editors replace files, which ends a watch on the file.
    this.watcher = fs.watch(path.dirname(file), (_event, name) => {
      if (!name || name.toString() === path.basename(file)) {
        this.scheduleReload(file);
      }
    });
    this.watcher.on('error', e =>
      this.logger.warn(`Stopped watching ${file}: ${e}`),
    );
  }

  private scheduleReload(trigger: string) {
    clearTimeout(this.timer);
    // Editors write in several steps; read once they are done.
    this.timer = setTimeout(() => void this.reload(trigger), 200);
  }

  /** Reads the configuration again; on error keeps the one in force. */
  async reload(trigger: string): Promise<boolean> {
    const event = await this.auditor.createEvent({
      eventId: 'policy-reload',
      severityLevel: 'medium',
      meta: { trigger },
    });
    let next: RbacConfig;
    try {
      next = readRbacConfig(this.rootConfig);
    } catch (e) {
      const message = (e as Error).message;
      this.lastReloadError = { message, at: new Date().toISOString() };
      this.logger.error(
        `Entra RBAC: the new configuration is refused, the previous one stays in force: ${message}`,
      );
      const meta =
        e instanceof EntraRbacConfigError
          ? { file: e.file, key: e.key, reason: e.reason, code: e.code }
          : {};
      await event.fail({
        error: e as Error,
        meta: { ...meta, kept: 'previous policy' },
      });
      return false;
    }
    this.config = next;
    this.loadedAt = new Date();
    this.lastReloadError = undefined;
    this.watchFile();
    this.listeners.forEach(l => l(next));
    this.logger.info(
      `Entra RBAC: reloaded ${next.roles.length} roles from ${next.origin}`,
    );
    await event.success({
      meta: { origin: next.origin, roles: next.roles.map(r => r.name) },
    });
    return true;
  }
}
