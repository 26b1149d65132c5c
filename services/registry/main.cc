#include "services/registry/registry_service.h"

int main(int argc, char** argv) {
  return granary::server::RunService(argc, argv, granary::registry::Definition());
}
