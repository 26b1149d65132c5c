#include "services/serving/serving_service.h"

int main(int argc, char** argv) {
  return granary::server::RunService(argc, argv, granary::serving::Definition());
}
