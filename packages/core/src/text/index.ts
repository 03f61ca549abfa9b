// @chronicle/core/text: collaborative text fields (Yjs updates as events). Opt-in: only apps
// importing this entry point load yjs.
export {
  defineTextField,
  type TextEditData,
  type TextField,
  type TextFieldOptions,
  type TextFieldState,
  type TextFieldsState,
} from "./text-field.ts";
