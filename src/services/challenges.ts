import { Challenge } from '../models/challenge.js';

const TTL_MS = 24 * 3600_000;

/** Publishes an http-01 answer in MongoDB, so whichever web process the CA reaches can serve it. */
export async function publishChallenge(
  token: string,
  keyAuthorization: string,
  orderId: number,
): Promise<void> {
  await Challenge.updateOne(
    { token },
    {
      $set: {
        key_authorization: keyAuthorization,
        order: orderId,
        expires_at: new Date(Date.now() + TTL_MS),
      },
    },
    { upsert: true },
  );
}

/** The key authorization for `token`, or null when unknown or expired (expiry is checked here, not by TTL). */
export async function keyAuthorizationFor(token: string): Promise<string | null> {
  const challenge = await Challenge.findOne({ token, expires_at: { $gt: new Date() } }).lean();
  return challenge?.key_authorization ?? null;
}

export async function clearChallenges(orderId: number): Promise<void> {
  await Challenge.deleteMany({ order: orderId });
}
