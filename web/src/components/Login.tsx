import { useState, type FormEvent } from 'react';
import { api, ApiError, setToken } from '../api';
import { useI18n } from '../i18n';
import type { Me } from '../types';
import { LanguageSwitch } from './Switches';

export function Login({ onLoggedIn }: { onLoggedIn: (token: string, me: Me) => void }) {
  const { t } = useI18n();
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [token, setTok] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const describe = (e: unknown) => {
    if (e instanceof ApiError) {
      if (e.status === 401 || e.status === 403) return t('login.error.denied');
      if (e.status === 0) return t('error.network');
      return t('error.server', { status: e.status, detail: e.detail || e.title });
    }
    return String(e);
  };

  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (mode === 'password') {
        const res = await api.login(name, password);
        setToken(res.token);
        const me = await api.me().catch(() => res.user);
        onLoggedIn(res.token, me);
      } else {
        setToken(token.trim());
        const me = await api.me();
        onLoggedIn(token.trim(), me);
      }
    } catch (e) {
      setToken(null);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <form className="login-box" onSubmit={submit} data-testid="login-form">
        <div className="login-head">
          <h1>{t('app.title')}</h1>
          <LanguageSwitch />
        </div>
        <p className="login-sub">{t('app.subtitle')}</p>
        <div className="seg">
          <button type="button" className={mode === 'password' ? 'on' : ''} onClick={() => setMode('password')}>
            {t('login.mode.password')}
          </button>
          <button type="button" className={mode === 'token' ? 'on' : ''} onClick={() => setMode('token')}>
            {t('login.mode.token')}
          </button>
        </div>
        {mode === 'password' ? (
          <>
            <label>
              {t('login.name')}
              <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} required />
            </label>
            <label>
              {t('login.password')}
              <input
                name="password"
                type="password"
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.target.value)}
                required
              />
            </label>
          </>
        ) : (
          <label>
            {t('login.token')}
            <input name="token" value={token} onChange={(e) => setTok(e.target.value)} required />
          </label>
        )}
        {error ? (
          <div className="error" role="alert">
            {describe(error)}
          </div>
        ) : null}
        <button type="submit" className="primary" disabled={busy}>
          {t('login.submit')}
        </button>
        <p className="hint">{t('login.hint')}</p>
      </form>
    </div>
  );
}
