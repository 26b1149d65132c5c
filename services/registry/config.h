// The registry's configuration (besides the shared `server:` section).
//
//   postgres: {address: 127.0.0.1:5432, database: granary, user: granary, password: {...}}
//   nats: {url: nats://127.0.0.1:4222}
//   jetstream: {replicas: 1, ...}     # shared with the other services: libs/bus/streams.h
#ifndef GRANARY_SERVICES_REGISTRY_CONFIG_H_
#define GRANARY_SERVICES_REGISTRY_CONFIG_H_

#include "libs/bus/options.h"
#include "libs/bus/streams.h"
#include "libs/config/reader.h"
#include "libs/pg/options.h"

namespace granary::registry {

struct RegistryConfig {
  // Where the catalog lives (schema `registry`).
  pg::PgOptions postgres;
  // Where change events and online cleanups go.
  bus::NatsOptions nats;
  bus::JetStreamSettings jetstream;
};

RegistryConfig ReadRegistryConfig(config::Reader& root);

}  // namespace granary::registry

#endif  // GRANARY_SERVICES_REGISTRY_CONFIG_H_
