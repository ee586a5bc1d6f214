// The lab's cluster as the settings parser makes it (fw-a primary 127.0.0.2, fw-b secondary
// 127.0.0.3, gateway box1_mailgw): for unit tests that need a real ClusterConfig.
import { ClusterConfig, parseSettings } from '../../../src/core/config';

export function labCluster(): ClusterConfig {
  return parseSettings([
    {
      name: 'lab',
      server: 'box1',
      service: 'mailgw',
      units: [
        { name: 'fw-a', role: 'primary', host: '127.0.0.2' },
        { name: 'fw-b', role: 'secondary', host: '127.0.0.3' },
      ],
    },
  ]).clusters[0];
}
