/// <reference path="../pb_data/types.d.ts" />
// The benchmark's contacts collection: the same fields as a kontak contact, a unique
// index on phone (as kontak has per workspace) and an index on created, which the
// newest-first list sorts by. List, view and create are open (rule ""), so the
// benchmark needs no auth token; kontak's side pays for its bearer key check.
migrate((app) => {
  const contacts = new Collection({
    type: "base",
    name: "contacts",
    listRule: "",
    viewRule: "",
    createRule: "",
    fields: [
      { name: "phone", type: "text", required: true },
      { name: "name", type: "text" },
      { name: "email", type: "text" },
      { name: "tags", type: "json" },
      { name: "custom_fields", type: "json" },
      { name: "created", type: "autodate", onCreate: true, onUpdate: false },
      { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
    ],
    indexes: [
      "CREATE UNIQUE INDEX idx_contacts_phone ON contacts (phone)",
      "CREATE INDEX idx_contacts_created ON contacts (created)",
    ],
  });
  app.save(contacts);
}, (app) => {
  app.delete(app.findCollectionByNameOrId("contacts"));
});
