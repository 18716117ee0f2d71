import mongoose from 'mongoose';
import { config } from '../config.js';
import { logger } from './logger.js';

export async function connectMongo(uri = config.MONGODB_URI): Promise<typeof mongoose> {
  // Indexes are built by the release phase (syncIndexes), not by every process at start.
  mongoose.set('autoIndex', false);
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
