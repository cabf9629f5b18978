export interface PasswordProblem {
  code: 'PASSWORD_TOO_SHORT' | 'PASSWORD_TOO_WEAK' | 'PASSWORD_CONTAINS_USERNAME';
}

/** NIST 800-63B style: length over composition rules; reject the obvious. */
export function checkPassword(password: string, username: string): PasswordProblem | null {
  if (password.length < 10) return { code: 'PASSWORD_TOO_SHORT' };
  if (username && password.toLowerCase().includes(username.toLowerCase()))
    return { code: 'PASSWORD_CONTAINS_USERNAME' };
  if (new Set(password).size < 4) return { code: 'PASSWORD_TOO_WEAK' };
  return null;
}
