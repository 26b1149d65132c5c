#include "services/gateway/gateway_service.h"

int main(int argc, char** argv) {
  return granary::server::RunService(argc, argv, granary::gateway::Definition());
}
