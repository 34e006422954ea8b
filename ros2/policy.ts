// The sampling policies moved to runtime/sampling.ts so that rpi/ uses the same code; kept here so
// ros2/ modules and users' imports of pcp-edge's ros2 sources keep working.
export * from '../runtime/sampling.js'
