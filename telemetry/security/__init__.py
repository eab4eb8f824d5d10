"""Fleet security: a development PKI (`pki`) for Zenoh's mutual TLS. Production fleets bring
their own CA; what Zenoh needs from either is a CA certificate and, per party, a certificate
and key whose common name names the party (vehicle, router, aggregator or dashboard)."""
