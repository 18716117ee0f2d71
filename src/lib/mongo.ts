import mongoose from 'mongoose';
import { config } from '../config.js';
import { logger } from './logger.js';

export async function connectMongo(uri = config.MONGODB_URI): Promise<typeof mongoose> {
  // In production the release phase builds indexes (syncIndexes) rather than every process at start;
  // in development the processes build them so `npm run dev` needs no separate step.
  mongoose.set('autoIndex', !config.production);
  mongoose.set('strictQuery', true);
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  logger.info({ db: mongoose.connection.name }, 'mongo connected');
  return mongoose;
}

export async function closeMongo(): Promise<void> {
  await mongoose.disconnect();
}

export const mongoReady = (): boolean =>
  mongoose.connection.readyState === mongoose.ConnectionStates.connected;
