// The profile's change-password page: old password, new one twice.
import { useState } from 'preact/hooks';
import { changePassword } from '../api';
import { TopBar } from './TopBar';

export function ChangePassword() {
  const [oldPassword, setOld] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);

  const onSubmit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setMessage(undefined);
    if (oldPassword === '') return setError('Old password is required');
    if (next === '') return setError('New password is required');
    if (next !== confirm) return setError('Passwords must match');
    setBusy(true);
    try {
      const answer = await changePassword(oldPassword, next, confirm);
      setMessage(answer?.message ?? 'User password changed');
      setOld('');
      setNext('');
      setConfirm('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="app">
      <TopBar crumbs={[{ text: 'Profile' }, { text: 'Change password' }]} />
      <main class="page-body">
        <h1 class="page-title">Change password</h1>
        <form class="form form-narrow" onSubmit={onSubmit}>
          <label class="field">
            <span>Old password</span>
            <input
              class="input"
              type="password"
              name="oldPassword"
              autocomplete="current-password"
              value={oldPassword}
              onInput={(e) => setOld(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>New password</span>
            <input
              class="input"
              type="password"
              name="newPassword"
              autocomplete="new-password"
              value={next}
              onInput={(e) => setNext(e.currentTarget.value)}
            />
          </label>
          <label class="field">
            <span>Confirm password</span>
            <input
              class="input"
              type="password"
              name="confirmNew"
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
          {message && (
            <div class="alert alert-success" role="status">
              {message}
            </div>
          )}
          <div class="form-buttons">
            <button type="submit" class="btn btn-primary" disabled={busy}>
              Change password
            </button>
          </div>
        </form>
      </main>
    </div>
  );
}
