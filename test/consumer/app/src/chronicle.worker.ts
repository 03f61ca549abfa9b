import { hostChronicle } from "@chronicle/browser/worker";
import { todoList, todos } from "./todos.ts";

hostChronicle({ name: "consumer-todos", deciders: [todos], projections: [todoList] });
