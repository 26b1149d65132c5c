-- The example's offline tables. driver_stats is driver_stats_source's table: its history, and
-- where the materializer appends rows pushed through driver_stats_push.
CREATE TABLE IF NOT EXISTS driver_stats (
  driver_id bigint NOT NULL,
  event_timestamp timestamptz NOT NULL,
  created timestamptz,
  conv_rate real,
  acc_rate real,
  avg_daily_trips bigint
);
