/** The node's network route (operators only: 403 for everyone else). */
import { call } from '../api';
import type { NetworkStatus } from './types';

export const networkApi = {
  status: () => call<NetworkStatus>('GET', '/api/v1/network'),
};
