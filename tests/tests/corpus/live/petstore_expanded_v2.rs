//! Written by drydock's corpus test (`tests/tests/corpus/live.rs`) into the crate generated
//! from the corpus document `petstore-expanded-v2` (Swagger 2.0): the generated server, with
//! the in-memory pet store below behind it, serves 127.0.0.1 and answers the generated client.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use live_petstore as petstore;
use petstore::client::{AddPetParams, Client, DeletePetParams, FindPetByIdParams, FindPetsParams};
use petstore::server::pets::{
    AddPetRequest, AddPetResponse, DeletePetRequest, DeletePetResponse, FindPetByIdRequest,
    FindPetByIdResponse, FindPetsRequest, FindPetsResponse,
};
use petstore::server::{ApiVersion, ServerError};
use petstore::{Error, NewPet, Pet};

/// The pets posted so far, by id; ids count from 1.
#[derive(Clone, Default)]
struct Store {
    pets: Arc<Mutex<BTreeMap<i64, Pet>>>,
}

impl Store {
    fn pets(&self) -> std::sync::MutexGuard<'_, BTreeMap<i64, Pet>> {
        self.pets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The document's `default` answer: its `Error` model with the status as its code.
fn error(status: u16, message: String) -> (u16, Box<Error>) {
    let code = i32::from(status);
    (status, Box::new(Error { code, message }))
}

/// The id of a path, or the 400 answer.
fn pet_id(id: &str) -> Result<i64, (u16, Box<Error>)> {
    id.parse()
        .map_err(|_| error(400, format!("pet id {id:?} is not a number")))
}

impl petstore::server::Pets for Store {
    async fn add_pet(
        &self,
        request: AddPetRequest,
        _version: ApiVersion,
    ) -> Result<AddPetResponse, ServerError> {
        let NewPet { name, tag } = request.body;
        let mut pets = self.pets();
        let id = pets.keys().next_back().map_or(1, |last| last + 1);
        let pet = Pet { name, tag, id };
        pets.insert(id, pet.clone());
        Ok(AddPetResponse::Status200(Box::new(pet)))
    }

    async fn find_pet_by_id(
        &self,
        request: FindPetByIdRequest,
        _version: ApiVersion,
    ) -> Result<FindPetByIdResponse, ServerError> {
        let found = pet_id(&request.id).and_then(|id| {
            self.pets()
                .get(&id)
                .cloned()
                .ok_or_else(|| error(404, format!("no pet has id {id}")))
        });
        Ok(match found {
            Ok(pet) => FindPetByIdResponse::Status200(Box::new(pet)),
            Err((status, body)) => FindPetByIdResponse::Default { status, body },
        })
    }

    async fn find_pets(
        &self,
        request: FindPetsRequest,
        _version: ApiVersion,
    ) -> Result<FindPetsResponse, ServerError> {
        let limit = request.limit.map_or(usize::MAX, |n| n.max(0) as usize);
        let tags = request.tags.unwrap_or_default();
        let pets = self
            .pets()
            .values()
            .filter(|pet| tags.is_empty() || pet.tag.as_ref().is_some_and(|t| tags.contains(t)))
            .take(limit)
            .cloned()
            .collect();
        Ok(FindPetsResponse::Status200(pets))
    }

    async fn delete_pet(
        &self,
        request: DeletePetRequest,
        _version: ApiVersion,
    ) -> Result<DeletePetResponse, ServerError> {
        let removed = pet_id(&request.id).and_then(|id| {
            self.pets()
                .remove(&id)
                .ok_or_else(|| error(404, format!("no pet has id {id}")))
        });
        Ok(match removed {
            Ok(_) => DeletePetResponse::Status204,
            Err((status, body)) => DeletePetResponse::Default { status, body },
        })
    }
}

fn new_pet(name: &str, tag: Option<&str>) -> AddPetParams {
    AddPetParams {
        body: NewPet {
            name: name.to_string(),
            tag: tag.map(str::to_string),
        },
    }
}

#[tokio::test]
async fn the_generated_client_drives_the_generated_server_over_tcp() {
    let store = Store::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port on 127.0.0.1");
    let address = listener.local_addr().expect("the listener has an address");
    let router = petstore::server::router(store.clone());
    tokio::spawn(drydock_runtime::server::listen::serve_tcp(listener, router));
    let client = Client::with_base_url(&format!("http://{address}")).expect("a client");

    // Create: what the client posts is what the store keeps, under the id it hands out.
    let rex = client
        .add_pet(new_pet("Rex", Some("dog")))
        .await
        .expect("addPet");
    assert_eq!(
        rex,
        Pet {
            name: "Rex".into(),
            tag: Some("dog".into()),
            id: 1
        }
    );
    let tom = client
        .add_pet(new_pet("Tom", Some("cat")))
        .await
        .expect("addPet");
    let fido = client
        .add_pet(new_pet("Fido", Some("dog")))
        .await
        .expect("addPet");
    let nemo = client.add_pet(new_pet("Nemo", None)).await.expect("addPet");
    assert_eq!([tom.id, fido.id, nemo.id], [2, 3, 4]);
    assert_eq!(store.pets().get(&3), Some(&fido));

    // Get: by path parameter.
    let got = client
        .find_pet_by_id(FindPetByIdParams { id: tom.id })
        .await
        .expect("find pet by id");
    assert_eq!(got, tom);

    // List: every pet, then by the query's tags (a comma-separated array) and limit.
    let all = client
        .find_pets(FindPetsParams::default())
        .await
        .expect("findPets");
    assert_eq!(all, [rex.clone(), tom.clone(), fido.clone(), nemo.clone()]);
    let dogs = client
        .find_pets(FindPetsParams {
            tags: Some(vec!["dog".into()]),
            limit: None,
        })
        .await
        .expect("findPets by tag");
    assert_eq!(dogs, [rex.clone(), fido.clone()]);
    let first_pets = client
        .find_pets(FindPetsParams {
            tags: Some(vec!["cat".into(), "dog".into()]),
            limit: Some(2),
        })
        .await
        .expect("findPets by tags with a limit");
    assert_eq!(first_pets, [rex.clone(), tom.clone()]);

    // Delete, then the pet is gone: a 404 whose body is the documented `Error`.
    client
        .delete_pet(DeletePetParams { id: tom.id })
        .await
        .expect("deletePet");
    let err = client
        .find_pet_by_id(FindPetByIdParams { id: tom.id })
        .await
        .expect_err("a deleted pet is not found");
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(err.to_string().ends_with("404: no pet has id 2"), "{err}");
    let documented: Error = err
        .body_as()
        .expect("an error answer")
        .expect("the body is the documented Error");
    assert_eq!(
        documented,
        Error {
            code: 404,
            message: "no pet has id 2".into()
        }
    );
    let err = client
        .delete_pet(DeletePetParams { id: 99 })
        .await
        .expect_err("no pet 99");
    assert_eq!(err.status(), Some(404), "{err}");
    assert_eq!(store.pets().len(), 3);
}
