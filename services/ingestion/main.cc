#include "services/ingestion/ingestion_service.h"

int main(int argc, char** argv) {
  return granary::server::RunService(argc, argv, granary::ingestion::Definition());
}
