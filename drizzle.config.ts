// drizzle-kit: `npx drizzle-kit generate` writes SQL migrations for schema changes into migrations/.
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  schema: "./src/store/schema/index.ts",
  out: "./migrations",
});
