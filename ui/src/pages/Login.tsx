// The login page: user and password; after logging in with the default
// password "admin", Grafana's prompt to update it (which can be skipped).
import { useState } from 'preact/hooks';
import { ApiError, changePassword, login } from '../api';
import { navigate, safeRedirect } from '../router';

/** Grafana asks to change the password when the one typed was its default. */
export const DEFAULT_PASSWORD = 'admin';

export function Login({ search }: { search: string }) {
  const redirectTo = safeRedirect(new URLSearchParams(search).get('redirectTo'));
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [promptChange, setPromptChange] = useState(false);

  const done = () => navigate(redirectTo, { replace: true });

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (user.trim() === '' || password === '') {
      setError(user.trim() === '' ? 'Email or username is required' : 'Password is required');
      return;
    }
    setBusy(true);
    try {
      const result = await login(user.trim(), password);
      if (result?.isDefaultPassword ?? password === DEFAULT_PASSWORD) setPromptChange(true);
      else done();
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="login-page">
      <div class="login-box">
        <div class="login-logo">
          <svg viewBox="0 0 24 24" width="56" height="56" aria-hidden="true">
            <path fill="#f05a28" d="M12 2a10 10 0 1 0 10 10h-3a7 7 0 1 1-7-7z" />
            <circle cx="12" cy="12" r="3" fill="#fbca0a" />
          </svg>
          <h1>{promptChange ? 'Update your password' : 'Welcome to vigil'}</h1>
        </div>
        {promptChange ? (
          <UpdatePassword oldPassword={password} onDone={done} />
        ) : (
          <form class="form" onSubmit={onSubmit}>
            <label class="field">
              <span>Email or username</span>
              <input
                class="input"
                name="user"
                data-testid="login-user"
                autocomplete="username"
                placeholder="email or username"
                autofocus
                value={user}
                onInput={(e) => setUser(e.currentTarget.value)}
              />
            </label>
            <label class="field">
              <span>Password</span>
              <input
                class="input"
                name="password"
                data-testid="login-password"
                type="password"
                autocomplete="current-password"
                placeholder="password"
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
            {error && (
              <div class="alert alert-error" role="alert" data-testid="login-error">
                {error}
              </div>
            )}
            <button
              type="submit"
              class="btn btn-primary btn-block"
              disabled={busy}
              data-testid="login-submit"
            >
              {busy ? 'Logging in...' : 'Log in'}
            </button>
          </form>
        )}
      </div>
    </div>
  );
}

/** The default-password prompt: a new password twice, or Skip. */
function UpdatePassword({ oldPassword, onDone }: { oldPassword: string; onDone: () => void }) {
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (next === '') return setError('New password is required');
    if (next !== confirm) return setError('Passwords must match');
    setBusy(true);
    try {
      await changePassword(oldPassword, next, confirm);
      onDone();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="form" onSubmit={onSubmit}>
      <p class="muted">Continue with a password of your own: the default one is known to everyone.</p>
      <label class="field">
        <span>New password</span>
        <input
          class="input"
          name="newPassword"
          data-testid="change-password-new"
          type="password"
          autocomplete="new-password"
          autofocus
          value={next}
          onInput={(e) => setNext(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>Confirm new password</span>
        <input
          class="input"
          name="confirmNew"
          data-testid="change-password-confirm"
          type="password"
          autocomplete="new-password"
          value={confirm}
          onInput={(e) => setConfirm(e.currentTarget.value)}
        />
      </label>
      {error && (
        <div class="alert alert-error" role="alert">
          {error}
        </div>
      )}
      <div class="form-buttons">
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="change-password-submit">
          Submit
        </button>
        <button
          type="button"
          class="btn btn-secondary"
          onClick={onDone}
          title="Keep the current password for now"
          data-testid="login-skip"
        >
          Skip
        </button>
      </div>
    </form>
  );
}
