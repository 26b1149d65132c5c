// NATS.c's handle types, declared without its header: code that uses libs/bus never sees
// NATS.c (the typedefs are the very ones nats.h makes, so both may be seen together).
#ifndef GRANARY_LIBS_BUS_NATS_FWD_H_
#define GRANARY_LIBS_BUS_NATS_FWD_H_

typedef struct __natsConnection natsConnection;
typedef struct __natsSubscription natsSubscription;
typedef struct __natsMsg natsMsg;
typedef struct __jsCtx jsCtx;

#endif  // GRANARY_LIBS_BUS_NATS_FWD_H_
