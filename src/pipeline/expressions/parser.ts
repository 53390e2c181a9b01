// Recursive-descent parser: source → syntax tree, or the first syntax error with its exact offset.
// Precedence, loosest to tightest: `||`, `&&`, `==` `!=`, `<` `<=` `>` `>=`, unary `!`, primary.

import type { CompareOp, Expr, LogicalOp } from "./ast";
import { depthOf } from "./ast";
import type { Punct, Token } from "./lexer";
import { tokenize } from "./lexer";
import type { ExpressionError } from "./types";

export type ParseResult = { ok: true; expr: Expr } | { ok: false; error: ExpressionError };

/** Deepest nesting accepted, so evaluation can never exhaust the stack. */
export const MAX_DEPTH = 200;

const KEYWORDS: Readonly<Record<string, true | false | null>> = { true: true, false: false, null: null };

class ParseFailure {
  constructor(readonly error: ExpressionError) {}
}

function failAt(message: string, offset: number, length: number, hint?: string): never {
  throw new ParseFailure(hint === undefined ? { message, offset, length } : { message, offset, length, hint });
}

/** How a token reads in a message: `')'`, `name 'foo'`, `string 'x'`, `number 1`, `end of expression`. */
export function describeToken(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of expression";
    case "punct":
      return `'${token.value}'`;
    case "name":
      return Object.hasOwn(KEYWORDS, token.value) ? `'${token.value}'` : `name '${token.value}'`;
    case "number":
      return `number ${token.value}`;
    case "string": {
      const shown = token.value.length > 20 ? `${token.value.slice(0, 20)}…` : token.value;
      return `string '${shown}'`;
    }
  }
}

export function parseExpression(source: string): ParseResult {
  const lexed = tokenize(source);
  if (!lexed.ok) return lexed;
  try {
    const expr = new Parser(lexed.tokens).parseAll(source);
    if (depthOf(expr) > MAX_DEPTH) {
      return { ok: false, error: { message: `expression is nested too deeply (more than ${MAX_DEPTH} levels)`, offset: 0, length: source.length } };
    }
    return { ok: true, expr };
  } catch (e) {
    if (e instanceof ParseFailure) return { ok: false, error: e.error };
    throw e;
  }
}

const COMPARE_OPS: readonly Punct[] = ["<", "<=", ">", ">="];
const EQUALITY_OPS: readonly Punct[] = ["==", "!="];

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parseAll(source: string): Expr {
    if (this.peek().kind === "eof") failAt("empty expression", 0, source.length);
    const expr = this.parseOr();
    const next = this.peek();
    if (next.kind !== "eof") this.unexpectedAfterExpression(next);
    return expr;
  }

  private peek(): Token {
    const token = this.tokens[this.pos] ?? this.tokens[this.tokens.length - 1];
    if (token === undefined) throw new Error("token list is empty");
    return token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== "eof") this.pos++;
    return token;
  }

  private isPunct(value: Punct): boolean {
    const token = this.peek();
    return token.kind === "punct" && token.value === value;
  }

  private unexpected(token: Token, expected: string, hint?: string): never {
    failAt(`unexpected ${describeToken(token)} — expected ${expected}`, token.start, token.end - token.start, hint);
  }

  private unexpectedAfterExpression(token: Token): never {
    let hint: string | undefined;
    if (token.kind === "punct") {
      if (token.value === "-") hint = "arithmetic is not supported";
      else if (token.value === "(") hint = "only functions can be called, like contains(a, b)";
    } else if (token.kind === "name" && token.value.toLowerCase() === "and") {
      hint = "use '&&'";
    } else if (token.kind === "name" && token.value.toLowerCase() === "or") {
      hint = "use '||'";
    } else {
      hint = "use '&&' or '||' to combine conditions";
    }
    this.unexpected(token, "an operator or end of expression", hint);
  }

  /** Expects a closing `)`/`]` for the opener at `openAt`. */
  private expectClose(close: ")" | "]", openAt: number, expected: string, opened: string): void {
    const token = this.peek();
    if (token.kind === "punct" && token.value === close) {
      this.next();
      return;
    }
    if (token.kind === "eof") {
      failAt(`missing '${close}' at end of expression`, token.start, 0, `${opened} at offset ${openAt} is never closed`);
    }
    this.unexpected(token, expected, `to close ${opened} at offset ${openAt}`);
  }

  private enter(at: Token): void {
    if (++this.depth > MAX_DEPTH) failAt(`expression is nested too deeply (more than ${MAX_DEPTH} levels)`, at.start, at.end - at.start);
  }

  private parseOr(): Expr {
    return this.parseLogical("||", () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.parseLogical("&&", () => this.parseEquality());
  }

  private parseLogical(op: LogicalOp, operand: () => Expr): Expr {
    let left = operand();
    while (this.isPunct(op)) {
      this.next();
      const right = operand();
      left = { kind: "logical", op, left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseEquality(): Expr {
    return this.parseComparison(EQUALITY_OPS, () => this.parseRelational());
  }

  private parseRelational(): Expr {
    return this.parseComparison(COMPARE_OPS, () => this.parseUnary());
  }

  private parseComparison(ops: readonly Punct[], operand: () => Expr): Expr {
    let left = operand();
    for (let token = this.peek(); token.kind === "punct" && ops.includes(token.value); token = this.peek()) {
      this.next();
      const right = operand();
      left = { kind: "compare", op: token.value as CompareOp, left, right, start: left.start, end: right.end };
    }
    return left;
  }

  private parseUnary(): Expr {
    const token = this.peek();
    if (token.kind === "punct" && token.value === "!") {
      this.next();
      this.enter(token);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: "not", operand, start: token.start, end: operand.end };
    }
    if (token.kind === "punct" && token.value === "-") {
      this.next();
      const number = this.peek();
      if (number.kind !== "number") {
        this.unexpected(token, "an expression", "'-' can only negate a number; arithmetic is not supported");
      }
      this.next();
      return this.parsePostfix({ kind: "literal", value: -number.value, start: token.start, end: number.end });
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(primary: Expr): Expr {
    let expr = primary;
    for (;;) {
      const token = this.peek();
      if (token.kind !== "punct") return expr;
      if (token.value === ".") {
        this.next();
        const name = this.peek();
        if (name.kind !== "name") this.unexpected(name, "a property name after '.'");
        this.next();
        expr = { kind: "member", object: expr, property: name.value, propertyStart: name.start, start: expr.start, end: name.end };
      } else if (token.value === "[") {
        this.next();
        this.enter(token);
        const index = this.parseOr();
        this.expectClose("]", token.start, "']'", "the '['");
        this.depth--;
        expr = { kind: "index", object: expr, index, start: expr.start, end: this.previousEnd() };
      } else {
        return expr;
      }
    }
  }

  private previousEnd(): number {
    return this.tokens[this.pos - 1]?.end ?? 0;
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case "number":
      case "string":
        this.next();
        return { kind: "literal", value: token.value, start: token.start, end: token.end };
      case "name": {
        this.next();
        if (Object.hasOwn(KEYWORDS, token.value)) {
          return { kind: "literal", value: KEYWORDS[token.value] ?? null, start: token.start, end: token.end };
        }
        if (this.isPunct("(")) return this.parseCall(token);
        return { kind: "name", name: token.value, start: token.start, end: token.end };
      }
      case "punct":
        if (token.value === "(") {
          this.next();
          this.enter(token);
          const inner = this.parseOr();
          this.expectClose(")", token.start, "')'", "the '('");
          this.depth--;
          return inner;
        }
        return this.unexpected(token, "an expression");
      case "eof":
        return this.unexpected(token, "an expression");
    }
  }

  private parseCall(name: Token & { kind: "name" }): Expr {
    const open = this.next();
    this.enter(open);
    const args: Expr[] = [];
    if (this.isPunct(")")) {
      this.next();
    } else {
      for (;;) {
        args.push(this.parseOr());
        if (this.isPunct(",")) {
          this.next();
          continue;
        }
        this.expectClose(")", open.start, "',' or ')'", `the call to '${name.value}'`);
        break;
      }
    }
    this.depth--;
    return { kind: "call", name: name.value, nameEnd: name.end, args, start: name.start, end: this.previousEnd() };
  }
}
