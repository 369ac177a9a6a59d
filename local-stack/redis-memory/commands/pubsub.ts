import { arg, type CommandTable } from '../command.ts';

export const pubSubCommands: CommandTable = {
  /**
   * The number of subscriptions the message reached (subscribers.ts). Not a write, but "may
   * replicate", which read-only scripts refuse as they refuse writes.
   */
  publish: {
    arity: 3,
    write: true,
    run: (context, args) => context.subscribers.publish(arg(args, 1), arg(args, 2)),
  },
};
