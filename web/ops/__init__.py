"""Operations endpoints for load balancers and monitoring: liveness and readiness."""
