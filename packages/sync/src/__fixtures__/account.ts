// internal: not exported. A bank account: deposits are rebaseable, withdrawals strict (they must
// be decided on the node's exact state, or the balance could go negative).
import { ChronicleError, defineDecider, defineEvent } from "@chronicle/core";
import { z } from "zod";

export const deposited = defineEvent({
  type: "money.deposited",
  schema: z.object({ amount: z.number().int().positive() }),
});
export const withdrawn = defineEvent({
  type: "money.withdrawn",
  schema: z.object({ amount: z.number().int().positive() }),
});

export type AccountCommand = { deposit: number } | { withdraw: number };

export const account = defineDecider({
  name: "account",
  events: [deposited, withdrawn],
  initialState: { balance: 0 },
  evolve: (state, event) => ({
    balance:
      state.balance + (event.type === "money.deposited" ? event.data.amount : -event.data.amount),
  }),
  decide: (command: AccountCommand, state) => {
    if ("deposit" in command) return deposited.create({ amount: command.deposit });
    if (state.balance < command.withdraw) {
      throw new ChronicleError(
        "validation",
        `balance ${state.balance} is below ${command.withdraw}`,
      );
    }
    return withdrawn.create({ amount: command.withdraw });
  },
});
