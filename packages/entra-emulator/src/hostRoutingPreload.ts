/*
 * Preload for `node --require`: routes the real Microsoft host names named in
 * GATEHOUSE_HOST_ROUTES to the emulator (see hostRouting.ts). Nothing happens without it.
 */
import { installHostRoutingFromEnv } from './hostRouting';

installHostRoutingFromEnv();
