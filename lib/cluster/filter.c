/* Allow and deny lists of hosts and data centers: a host they exclude is
 * IGNORED (no pool, never in a plan). Checked when a host is placed
 * (control loop, rare), so the lists cost nothing per request. */
#include <stdbool.h>
#include <string.h>

#include "cluster/cluster_internal.h"

/* Whether `item` is one of the comma-separated `list` (spaces around
 * entries ignored). An entry "ip" also matches the item "ip:port". */
static bool listed(const char *list, const char *item, bool address) {
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    const char *end = p;
    while (*end && *end != ',') end++;
    size_t n = (size_t)(end - p);
    while (n && p[n - 1] == ' ') n--;
    if (n && !strncmp(item, p, n)) {
      char after = item[n];
      if (!after || (address && after == ':')) return true;
      /* "[v6]:port" given as "v6" */
    }
    if (n && address && item[0] == '[' && !strncmp(item + 1, p, n) && item[n + 1] == ']')
      return true;
    p = end;
  }
  return false;
}

bool cqlmux_cluster_host_allowed(const cqlmux_cluster *c, const cqlmux_host *h) {
  const cqlmux_cluster_config *f = &c->cfg;
  if (f->deny_hosts && listed(f->deny_hosts, h->address, true)) return false;
  if (f->allow_hosts && !listed(f->allow_hosts, h->address, true)) return false;
  if (f->deny_dcs && listed(f->deny_dcs, h->datacenter, false)) return false;
  if (f->allow_dcs && !listed(f->allow_dcs, h->datacenter, false)) return false;
  return true;
}
