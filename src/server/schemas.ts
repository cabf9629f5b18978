// Shared TypeBox pieces for route schemas.
import { Type, type TSchema } from '@sinclair/typebox';

export const ErrorSchema = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String(), field: Type.Optional(Type.String()), details: Type.Optional(Type.Unknown()) }),
});

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });

export const Paging = {
  page: Type.Integer({ minimum: 1, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 200, default: 20 }),
};

export function Page<T extends TSchema>(item: T) {
  return Type.Object({ total: Type.Integer(), items: Type.Array(item) });
}

export const Ok = Type.Object({ ok: Type.Boolean() });

/** Standard error responses every route may give, for the OpenAPI document. */
export const errorResponses = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 422: ErrorSchema };
