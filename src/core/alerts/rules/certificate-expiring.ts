import type { AlertRule } from "../rule.js";
import { fmtDuration } from "../rule.js";

export const rule: AlertRule = {
  id: "certificate-expiring",
  title: "A certificate ends soon",
  severity: "warning",
  threshold: 30,
  unit: "d",
  forSeconds: 0,
  doc: {
    meaning:
      "A certificate of the cluster ends within the threshold: this host's (the CA's, the server's, etcd's) or one the cluster issued another host (as recorded when issued). tusk renews a host's certificates 45 days ahead by itself, so this fires only when that renewal has not happened.",
    why: "Everything between hosts and every verify-full client checks them: a server certificate that ends refuses every TLS connection, a host's that ends drops it from etcd, replication and backups.",
    action:
      "`tusk certs` shows each certificate; `tusk certs renew` on the host named renews its own (a joined host asks the first host, which must be reachable); the supervisor's log says why an automatic renewal failed. The CA's own certificate (ten years) is not renewed this way.",
  },
  evaluate({ now }, threshold) {
    return now
      .all("tusk_certificate_expiry_seconds")
      .filter((s) => s.value < threshold * 86_400)
      .map((s) => ({
        labels: { host: s.labels.host ?? "?", certificate: s.labels.certificate ?? "?" },
        value: s.value / 86_400,
        summary: s.value <= 0 ? `the ${s.labels.certificate} certificate of ${s.labels.host} has ended` : `the ${s.labels.certificate} certificate of ${s.labels.host} ends in ${fmtDuration(s.value)}`,
      }));
  },
};
