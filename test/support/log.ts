import winston from 'winston';
import type { Logger } from '../../src/log';

/** A logger that writes nothing, for product parts a test drives directly. */
export const silentLogger: Logger = winston.createLogger({ silent: true });
